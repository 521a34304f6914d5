"""The training loop: outputs, resume, divergence, errors and checkpoints."""

import glob
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from jaxgen import train
from jaxgen.checkpoint import CheckpointError, Checkpointer
from jaxgen.writers import read_metrics
from tests.conftest import REPO, tiny_dcgan, tiny_ring8


def _leaves(state):
  return [np.asarray(x) for x in jax.tree.leaves(jax.device_get(state))]


def test_run_writes_config_metrics_tensorboard_samples_and_checkpoints(workdir):
  train.train_and_evaluate(tiny_dcgan(), workdir)
  with open(os.path.join(workdir, "config.json")) as f:
    assert json.load(f)["model"]["name"] == "dcgan"
  records = read_metrics(workdir)
  assert [r["step"] for r in records] == [2, 4, 6]
  for r in records:
    assert {"d_loss", "g_loss", "d_real", "d_fake", "wall_time", "steps_per_s"} <= set(r)
    assert np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"])
  assert glob.glob(os.path.join(workdir, "events.out.tfevents.*"))
  assert os.path.exists(os.path.join(workdir, "samples", "step_0000004.png"))
  assert os.path.exists(os.path.join(workdir, "samples.png"))
  assert Checkpointer(workdir).latest_step() == 6


def test_resumed_run_equals_uninterrupted_run(tmp_path):
  straight = train.train_and_evaluate(tiny_ring8(40), str(tmp_path / "a"))
  train.train_and_evaluate(tiny_ring8(20), str(tmp_path / "b"))  # "killed" at step 20
  resumed = train.train_and_evaluate(tiny_ring8(40), str(tmp_path / "b"))
  for a, b in zip(_leaves(straight), _leaves(resumed), strict=True):
    np.testing.assert_array_equal(a, b)
  # Records after the restored step are not duplicated.
  assert [r["step"] for r in read_metrics(str(tmp_path / "b"))] == [10, 20, 30, 40]


def test_resumed_dcgan_with_batchnorm_equals_uninterrupted_run(tmp_path):
  straight = train.train_and_evaluate(tiny_dcgan(8), str(tmp_path / "a"))
  train.train_and_evaluate(tiny_dcgan(4), str(tmp_path / "b"))
  resumed = train.train_and_evaluate(tiny_dcgan(8), str(tmp_path / "b"))
  for a, b in zip(_leaves(straight), _leaves(resumed), strict=True):
    np.testing.assert_array_equal(a, b)


def test_checkpoint_restores_bit_identical_state(workdir):
  state = train.train_and_evaluate(tiny_dcgan(4), workdir)
  restored, step = Checkpointer(workdir).restore(state)
  assert step == 4
  for a, b in zip(_leaves(state), _leaves(restored), strict=True):
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)


def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path):
  a = train.train_and_evaluate(tiny_ring8(20), str(tmp_path / "a"))
  b = train.train_and_evaluate(tiny_ring8(20), str(tmp_path / "b"))
  config = tiny_ring8(20)
  config.seed = 1
  c = train.train_and_evaluate(config, str(tmp_path / "c"))
  np.testing.assert_array_equal(_leaves(a)[0], _leaves(b)[0])
  assert not np.array_equal(_leaves(a)[-1], _leaves(c)[-1])


def test_divergence_stops_and_keeps_last_good_checkpoint(workdir):
  train.train_and_evaluate(tiny_ring8(20), workdir)
  config = tiny_ring8(60)
  config.optim.d.lr = 1e30  # the critic's weights overflow within a step or two
  with pytest.raises(train.TrainingDiverged,
                     match=r"diverged at step 30: .*nan.*last good checkpoint \(step 20\)"):
    train.train_and_evaluate(config, workdir)
  assert Checkpointer(workdir).latest_step() == 20


def test_checkpoint_of_another_architecture_gives_a_clear_error(workdir):
  train.train_and_evaluate(tiny_ring8(20), workdir)
  config = tiny_ring8(40)
  config.model.width = 16
  with pytest.raises(CheckpointError, match=r"checkpoints/20 does not match this config"):
    train.train_and_evaluate(config, workdir)


def test_corrupt_checkpoint_gives_a_clear_error(workdir):
  train.train_and_evaluate(tiny_ring8(20), workdir)
  for path in glob.glob(os.path.join(workdir, "checkpoints", "20", "**", "*"),
                        recursive=True):
    if os.path.isfile(path):
      with open(path, "wb") as f:
        f.write(b"garbage")
  with pytest.raises(CheckpointError, match=r"checkpoints/20 is unreadable"):
    train.train_and_evaluate(tiny_ring8(40), workdir)


@pytest.mark.parametrize("field, value, message", [
    ("model.name", "foo", r"unknown model.name 'foo'; choose one of: biggan, dcgan, .*mlp, resnet"),
    ("loss.name", "bar", r"unknown loss.name 'bar'; choose one of: hinge, lsgan"),
    ("dataset.name", "baz", r"unknown dataset.name 'baz'; choose one of: .*digits"),
    ("dataset.image_size", 28, r"model.name 'dcgan' needs a square power-of-two image"),
    ("train.steps_per_call", 4, r"train.num_steps=6 must be a multiple of "
                                r"train.steps_per_call=4"),
])
def test_bad_config_fields_give_one_line_errors(workdir, field, value, message):
  config = tiny_dcgan()
  section, name = field.split(".")
  config[section][name] = value
  with pytest.raises(ValueError, match=message):
    train.train_and_evaluate(config, workdir)


def test_cli_prints_one_line_error_and_exits_nonzero(workdir):
  result = subprocess.run(
      [sys.executable, "-m", "jaxgen.main", "--config", "configs/default.py",
       "--workdir", workdir, "--config.model.name=foo"],
      cwd=REPO, capture_output=True, text=True, timeout=120)
  assert result.returncode == 1
  last = result.stderr.strip().splitlines()[-1]
  from jaxgen.models import MODELS
  assert last == ("jaxgen: error: unknown model.name 'foo'; choose one of: "
                  + ", ".join(MODELS.names()))


def test_default_workdir_is_runs_slash_config_name():
  from jaxgen.main import default_workdir
  assert default_workdir("configs/gan_ring8.py") == os.path.join("runs", "gan_ring8")
  assert default_workdir("/abs/configs/default.py:arg") == os.path.join("runs", "default")


@pytest.mark.parametrize("loss", ["ns", "minimax", "hinge", "wgan", "wgan_gp", "lsgan"])
def test_every_loss_trains_the_dcgan(workdir, loss):
  config = tiny_dcgan(4, n_critic=2)
  config.loss.name = loss
  if loss.startswith("wgan"):
    config.model.d_norm = "layer"  # the gradient penalty is per-example: no BatchNorm
  if loss == "wgan":
    config.loss.clip_d_weights = 0.01
  state = train.train_and_evaluate(config, workdir)
  records = read_metrics(workdir)
  assert all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in records)
  assert ("d_gp" in records[-1]) == (loss == "wgan_gp")
  if loss == "wgan":
    assert max(float(np.abs(x).max()) for x in jax.tree.leaves(state.d.params)) <= 0.01
  assert int(state.step) == 4 and int(state.d.step) == 8  # n_critic D updates per G update
