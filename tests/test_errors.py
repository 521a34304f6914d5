"""User errors (jaxgen.errors.UserError) end a command with one line and exit code 1;
every other exception is a bug and keeps its traceback."""

import os
import subprocess
import sys

import ml_collections
import numpy as np
import pytest

from jaxgen import config_base, evaluate
from jaxgen.data import get_dataset
from jaxgen.errors import CheckpointError, ConfigError, DataError, UserError
from jaxgen.models import MODELS
from tests.conftest import REPO

ENV = dict(os.environ, PYTHONPATH=REPO, JAX_PLATFORMS="cpu")


def _run(args: list[str]) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, *args], cwd=REPO, env=ENV, capture_output=True,
                        text=True, timeout=300)


def _broken_run(module: str, patch: str, args: list[str]) -> subprocess.CompletedProcess:
  """Runs `module`'s CLI main with `patch` (Python code) applied first."""
  script = (f"import sys\nimport numpy as np\nfrom absl import app\n{patch}\n"
            f"import {module} as cli\nsys.argv = {[module] + args!r}\napp.run(cli.main)\n")
  return _run(["-c", script])


def test_user_error_classes():
  assert issubclass(ConfigError, ValueError) and issubclass(DataError, ValueError)
  assert issubclass(CheckpointError, RuntimeError)
  assert all(issubclass(c, UserError) for c in (ConfigError, DataError, CheckpointError))
  with pytest.raises(ConfigError, match=r"^unknown model.name 'x'; choose one of: .*dcgan"):
    MODELS.get("x")


def test_data_and_checkpoint_problems_raise_user_errors(tmp_path):
  with pytest.raises(DataError, match=r"no train-images-idx3-ubyte\[\.gz\] in"):
    get_dataset(ml_collections.ConfigDict(dict(name="mnist", data_dir=str(tmp_path))))
  with pytest.raises(ConfigError, match=r"^dataset 'mixture' needs dataset.means"):
    get_dataset(ml_collections.ConfigDict(dict(name="mixture")))
  with pytest.raises(CheckpointError, match=r"^no run directory "):
    evaluate.evaluate_run(str(tmp_path / "missing"))
  os.makedirs(tmp_path / "run")
  (tmp_path / "run" / "config.json").write_text(config_base.base_config().to_json())
  with pytest.raises(CheckpointError, match=r"^no checkpoint in .*; train first$"):
    evaluate.evaluate_run(str(tmp_path / "run"))


def test_main_prints_a_config_error_as_one_line_and_exits_1(tmp_path):
  result = _run(["-m", "jaxgen.main", "--config", "configs/default.py",
                 "--workdir", str(tmp_path / "run"), "--config.train.n_critic=0"])
  assert result.returncode == 1
  assert result.stderr.strip().splitlines()[-1] == (
      "jaxgen: error: train.n_critic must be positive, got 0")
  assert "Traceback" not in result.stderr


def test_an_internal_value_error_keeps_its_traceback(tmp_path):
  """A NumPy shape error inside the run is a bug: not turned into a one-line message."""
  patch = ("from jaxgen import train\n"
           "def broken(config, workdir, **kwargs):\n"
           "  return np.ones(3) @ np.ones(4)  # a shape bug inside the run\n"
           "train.train_and_evaluate = broken\n")
  result = _broken_run("jaxgen.main", patch, ["--config", "configs/default.py",
                                              "--workdir", str(tmp_path / "run")])
  assert result.returncode != 0
  assert "Traceback" in result.stderr and "ValueError: matmul" in result.stderr
  assert "jaxgen: error:" not in result.stderr


def test_evaluate_keeps_the_traceback_of_a_metric_bug(tmp_path):
  patch = ("from jaxgen import evaluate\n"
           "def broken(workdir, step=None, **kwargs):\n"
           "  return np.zeros((2, 3)).reshape(4)  # a metric's shape bug\n"
           "evaluate.evaluate_run = broken\n"
           "evaluate._define_flags()\n")
  result = _broken_run("jaxgen.evaluate", patch, ["--workdir", str(tmp_path)])
  assert result.returncode != 0 and "Traceback" in result.stderr
  assert "ValueError: cannot reshape" in result.stderr
  user = _run(["-m", "jaxgen.evaluate", "--workdir", str(tmp_path / "missing")])
  assert user.returncode == 1
  assert user.stderr.strip().splitlines() == [
      f"jaxgen: error: no run directory {tmp_path / 'missing'}"]


def test_train_classifier_and_sweep_print_user_errors_as_one_line(tmp_path):
  result = _run(["-m", "jaxgen.metrics.train_classifier", "--dataset=ring8",
                 f"--out={tmp_path / 'clf'}"])
  assert result.returncode == 1
  assert result.stderr.strip().splitlines()[-1].startswith(
      "jaxgen: error: a feature classifier needs a labelled image dataset")
  result = _run(["-m", "jaxgen.sweep", "--config", "configs/gan_ring8.py",
                 "--workdir", str(tmp_path / "sweep"), "--sweep.loss.name=ns,foo"])
  assert result.returncode == 1
  assert result.stderr.strip().splitlines()[-1].startswith(
      "jaxgen.sweep: error: unknown loss.name 'foo'; choose one of:")


def test_numpy_shape_errors_are_not_user_errors():
  with pytest.raises(ValueError) as error:
    np.ones(3) @ np.ones(4)
  assert not isinstance(error.value, UserError)
