"""`python -m jaxgen.generate`: samples of a checkpoint without the training data."""

import json
import os
import shutil
import subprocess
import sys

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from PIL import Image

from jaxgen import data, generate, train
from jaxgen.checkpoint import Checkpointer
from jaxgen.data import digits as digits_source
from jaxgen.data.specs import dataset_spec
from jaxgen.errors import CheckpointError, ConfigError, DataError
from jaxgen.trainers import build_trainer
from tests.conftest import REPO, tiny_dcgan


@pytest.mark.parametrize("fields", [
    dict(name="digits", image_size=0), dict(name="digits", image_size=16),
    dict(name="digits", image_size=32, split="test"), dict(name="ring8"),
    dict(name="grid25")])
def test_dataset_spec_equals_the_built_datasets_spec(fields):
  config = ml_collections.ConfigDict({"data_dir": "", "split": "train", **fields})
  assert dataset_spec(config) == data.get_dataset(config).spec


def test_dataset_spec_of_an_idx_source_reads_no_file(tmp_path):
  config = ml_collections.ConfigDict(dict(name="fashion_mnist", data_dir=str(tmp_path / "no"),
                                          split="train", image_size=32))
  with pytest.raises((FileNotFoundError, DataError)):
    data.get_dataset(config)  # The files are absent ...
  assert dataset_spec(config) == data.DataSpec("fashion_mnist", (32, 32, 1), 10, "image")


def _no_data(*args, **kwargs):
  raise AssertionError("generate read the dataset")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
  """Tiny DCGAN runs with checkpoints at steps 4 and 8: unconditional and 'projection'."""
  out = {}
  for name, cond in (("plain", ""), ("cond", "projection")):
    config = tiny_dcgan(8)
    config.model.cond = cond
    workdir = str(tmp_path_factory.mktemp(name) / "run")
    train.train_and_evaluate(config, workdir)
    out[name] = (workdir, config)
  return out


def _restored(workdir, config, step=None):
  trainer = build_trainer(config, data.get_dataset(config.dataset).spec)
  state, restored_step = Checkpointer(workdir).restore(trainer.init(jax.random.PRNGKey(0)), step)
  return trainer, state, restored_step


def _reference(trainer, state, num_samples, batch_size, truncation=0.0, seed=0):
  """trainer.sample on batch i's latents noise(fold_in(key, i)), clipped to [-1, 1]."""
  key, xs = generate.generation_key(seed), []
  for i, start in enumerate(range(0, num_samples, batch_size)):
    k = jax.random.fold_in(key, i)
    z = trainer.noise(k, batch_size)
    if truncation:
      z = jax.random.truncated_normal(k, -truncation, truncation, z.shape)
    xs.append(np.clip(np.asarray(trainer.sample(state, z)), -1, 1)[:num_samples - start])
  return np.concatenate(xs)


def test_generate_equals_trainer_sample_and_reads_no_data(runs, tmp_path, monkeypatch):
  workdir, config = runs["plain"]
  trainer, state, step = _restored(workdir, config)
  _, state4, _ = _restored(workdir, config, 4)
  monkeypatch.setattr(digits_source, "load_digits_split", _no_data)
  monkeypatch.setattr(data, "get_dataset", _no_data)
  out = str(tmp_path / "out")
  record = generate.generate_run(workdir, 10, out, batch_size=4)
  with np.load(os.path.join(out, "samples.npz")) as f:
    assert sorted(f.files) == ["x"]  # No labels for an unconditional model.
    x = f["x"]
  assert x.shape == (10, 8, 8, 1) and step == record["step"] == 8
  np.testing.assert_allclose(x, _reference(trainer, state, 10, 4), atol=1e-6)
  assert Image.open(os.path.join(out, "samples.png")).size[0] > 8 * 3
  with open(os.path.join(out, "generate.json")) as f:
    assert json.load(f) == record
  assert record["checkpoint"].endswith("checkpoints/8") and record["truncation"] == 0.0

  # --step, --best (a copy of step 4 in best/) and --truncation.
  shutil.copytree(os.path.join(workdir, "checkpoints", "4"),
                  os.path.join(workdir, "best", "checkpoints", "4"))
  at4 = generate.generate_run(workdir, 6, str(tmp_path / "s4"), step=4)
  best = generate.generate_run(workdir, 6, str(tmp_path / "best"), best=True)
  assert at4["step"] == best["step"] == 4
  x4 = np.load(os.path.join(tmp_path, "s4", "samples.npz"))["x"]
  np.testing.assert_array_equal(np.load(os.path.join(tmp_path, "best", "samples.npz"))["x"], x4)
  np.testing.assert_allclose(x4, _reference(trainer, state4, 6, 250), atol=1e-6)
  assert not np.allclose(x4, x[:6])
  generate.generate_run(workdir, 6, str(tmp_path / "t"), truncation=0.5)
  np.testing.assert_allclose(np.load(os.path.join(tmp_path, "t", "samples.npz"))["x"],
                             _reference(trainer, state, 6, 250, truncation=0.5), atol=1e-6)


def test_labels_pick_each_samples_class(runs, tmp_path):
  workdir, config = runs["cond"]
  trainer, state, _ = _restored(workdir, config)
  generate.generate_run(workdir, 5, str(tmp_path), labels="3,7")
  with np.load(os.path.join(tmp_path, "samples.npz")) as f:
    x, y = f["x"], f["y"]
  np.testing.assert_array_equal(y, [3, 7, 3, 7, 3])
  # Reference: the generator applied directly with these labels.
  z = trainer.noise(jax.random.fold_in(generate.generation_key(0), 0), 5)
  variables = {"params": state.g.params, "batch_stats": state.g.batch_stats}
  expected = state.g.apply_fn(variables, z, jnp.asarray(y), train=False)
  np.testing.assert_allclose(x, np.clip(np.asarray(expected), -1, 1), atol=1e-5)
  other = state.g.apply_fn(variables, z, jnp.asarray((y + 1) % 10), train=False)
  assert not np.allclose(x, np.clip(np.asarray(other), -1, 1), atol=1e-3)
  # Default: classes in turn, as trainer.sample; recorded as y.
  generate.generate_run(workdir, 12, str(tmp_path / "d"))
  with np.load(os.path.join(tmp_path, "d", "samples.npz")) as f:
    np.testing.assert_array_equal(f["y"], np.arange(12) % 10)
    np.testing.assert_allclose(f["x"], _reference(trainer, state, 12, 250), atol=1e-6)


def test_user_errors_are_one_line(runs, tmp_path):
  workdir, _ = runs["plain"]
  with pytest.raises(ConfigError, match=r"^--labels needs a class-conditional model"):
    generate.generate_run(workdir, 2, str(tmp_path), labels="1")
  with pytest.raises(ConfigError, match=r"^--labels \[10\] outside the model's classes 0..9$"):
    generate.generate_run(runs["cond"][0], 2, str(tmp_path), labels="1,10")
  with pytest.raises(CheckpointError, match=r"no checkpoint for step 5 .*; available: 4, 8$"):
    generate.generate_run(workdir, 2, str(tmp_path), step=5)
  missing = str(tmp_path / "nope")
  result = subprocess.run([sys.executable, "-m", "jaxgen.generate", "--workdir", missing],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode == 1
  assert result.stderr.strip().splitlines() == [f"jaxgen: error: no run directory {missing}"]
