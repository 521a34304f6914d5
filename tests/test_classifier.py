"""The offline feature classifier: accuracy, determinism, save/load, CLI, feature-net choice."""

import fcntl
import functools
import json
import os
import subprocess
import sys

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from jaxgen import data
from jaxgen.errors import DataError
from jaxgen.metrics import classifier, feature_nets
from tests.conftest import REPO

TEST_STEPS = 300  # 0.98 held-out accuracy on digits 16x16 (1000 steps, the default: 0.99)


def digits_config(image_size=16, split="train"):
  return ml_collections.ConfigDict(dict(name="digits", data_dir="", split=split,
                                        image_size=image_size))


@functools.lru_cache(maxsize=None)
def _train_digits_classifier(base_dir: str) -> str:
  """Trains once per test run: per process, and across xdist workers (a file lock)."""
  directory = os.path.join(base_dir, "feature_nets", "digits_16x16")
  os.makedirs(os.path.dirname(directory), exist_ok=True)
  with open(directory + ".lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    if not classifier.is_saved(directory):
      classifier.save_classifier(
          directory, classifier.train_classifier(digits_config(), steps=TEST_STEPS))
  return directory


@pytest.fixture(scope="session")
def digits_classifier_dir(tmp_path_factory):
  """A digits 16x16 classifier saved in this test run's temporary directory."""
  base = tmp_path_factory.getbasetemp()
  # xdist workers get <run>/popen-gwN; their parent is this run's and shared.
  return _train_digits_classifier(
      str(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base))


def test_classifier_is_accurate_on_held_out_digits(digits_classifier_dir):
  trained = classifier.load_classifier(digits_classifier_dir)
  assert trained.meta["held_out"] and trained.meta["num_test"] == 360
  assert trained.meta["accuracy_split"] == "test"
  test = data.get_dataset(digits_config(split="test"))
  batch = test.sample(test.num_examples, seed=3)
  acc = classifier.accuracy(trained, batch["x"], batch["y"])
  assert acc > 0.9
  assert acc == pytest.approx(trained.meta["accuracy"])
  assert trained.meta["steps"] == TEST_STEPS and trained.meta["dataset"] == "digits"


def test_save_load_round_trips_exactly(digits_classifier_dir, tmp_path):
  trained = classifier.load_classifier(digits_classifier_dir)
  copy_dir = str(tmp_path / "copy")
  classifier.save_classifier(copy_dir, trained)
  assert sorted(os.listdir(copy_dir)) == ["meta.json", "params.npz"]
  loaded = classifier.load_classifier(copy_dir)
  assert loaded.meta == trained.meta
  chex.assert_trees_all_equal(loaded.params, trained.params)
  x = data.get_dataset(digits_config()).sample(8, seed=0)["x"]
  out = loaded.apply(jnp.asarray(x))
  chex.assert_shape(out["features"], (8, 128))
  chex.assert_shape(out["logits"], (8, 10))
  chex.assert_trees_all_equal(out, trained.apply(jnp.asarray(x)))


def test_load_runs_no_pickle_and_checks_shapes(digits_classifier_dir, tmp_path):
  with np.load(os.path.join(digits_classifier_dir, "params.npz"), allow_pickle=False) as f:
    assert all(f[k].dtype == np.float32 for k in f.files)
  with pytest.raises(FileNotFoundError, match="no trained classifier in"):
    classifier.load_classifier(str(tmp_path))
  bad = str(tmp_path / "bad")
  trained = classifier.load_classifier(digits_classifier_dir)
  classifier.save_classifier(bad, classifier.TrainedClassifier(
      trained.params, {**trained.meta, "width": 16}))
  with pytest.raises(ValueError, match="does not match the architecture"):
    classifier.load_classifier(bad)


@pytest.mark.parametrize("shape", [(8, 8, 1), (32, 32, 3)])
def test_classifier_shapes(shape):
  model = classifier.Classifier(num_classes=7, width=4, feature_dim=5)
  out = jax.eval_shape(lambda x: model.init_with_output(jax.random.PRNGKey(0), x)[0],
                       jnp.zeros((3,) + shape))
  chex.assert_shape(out["features"], (3, 5))
  chex.assert_shape(out["logits"], (3, 7))


def test_points_or_unlabelled_data_cannot_train_a_classifier():
  with pytest.raises(ValueError, match="needs a labelled image dataset"):
    classifier.train_classifier(ml_collections.ConfigDict(dict(name="ring8")), steps=1)


def test_cli_trains_the_same_classifier_as_the_library(tmp_path):
  out = str(tmp_path / "net")
  cmd = [sys.executable, "-m", "jaxgen.metrics.train_classifier", "--dataset=digits",
         "--image_size=8", "--steps=4", "--batch_size=16", "--seed=3", f"--out={out}"]
  result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr
  printed = json.loads(result.stdout.strip().splitlines()[-1])
  assert printed["out"] == out and printed["image_shape"] == [8, 8, 1]
  with open(os.path.join(out, "meta.json")) as f:
    assert json.load(f)["steps"] == 4
  # Deterministic given the seed, across processes: the library gives the same net.
  saved = classifier.load_classifier(out)
  again = classifier.train_classifier(digits_config(8), steps=4, batch_size=16, seed=3)
  chex.assert_trees_all_equal(saved.params, again.params)
  assert saved.meta == {**again.meta, "train_time_s": saved.meta["train_time_s"]}
  other = classifier.train_classifier(digits_config(8), steps=4, batch_size=16, seed=4)
  assert not np.array_equal(other.params["logits"]["kernel"], again.params["logits"]["kernel"])


# Feature-network choice (config.eval.feature_net).

def _eval(**fields):
  return ml_collections.ConfigDict({"feature_net": "auto", "inception_weights": "",
                                    "feature_net_dir": "", **fields})


def test_auto_is_none_for_points_and_classifier_for_images(digits_classifier_dir):
  ring_config = ml_collections.ConfigDict(dict(name="ring8"))
  ring = data.get_dataset(ring_config)
  assert feature_nets.get_feature_net(_eval(), ring_config, ring.spec) is None
  assert feature_nets.resolve_name(_eval(inception_weights="w.npz"),
                                   data.get_dataset(digits_config()).spec) == "inception"
  spec = data.get_dataset(digits_config()).spec
  net = feature_nets.get_feature_net(_eval(feature_net_dir=digits_classifier_dir),
                                     digits_config(), spec)
  assert net.tag == "digits" and net.metric_name("fid") == "fid_digits"
  assert net.description.startswith("classifier digits 16x16 (held-out accuracy 0.9")
  x = data.get_dataset(digits_config()).sample(7, seed=0)["x"]
  features, logits = net.outputs(x, batch_size=3)  # 3 + 3 + a padded batch of 1
  chex.assert_shape(features, (7, 128))
  chex.assert_shape(logits, (7, 10))
  np.testing.assert_allclose(features, net.features(x, batch_size=7), rtol=1e-5, atol=1e-5)
  # Features are scaled to unit RMS on the training data (KID's kernel assumes x.y/d ~ 1).
  real = net.features(data.get_dataset(digits_config()).sample(1000, seed=1)["x"])
  assert np.sqrt(np.mean(np.square(real))) == pytest.approx(1.0, rel=0.05)


def test_classifier_is_trained_into_the_cache_once(tmp_path, monkeypatch, capsys):
  monkeypatch.setenv("JAXGEN_CACHE", str(tmp_path))
  monkeypatch.setattr(feature_nets, "DEFAULT_CLASSIFIER_STEPS", 3)
  config = digits_config(8)
  spec = data.get_dataset(config).spec
  net = feature_nets.get_feature_net(_eval(feature_net="classifier"), config, spec)
  directory = os.path.join(str(tmp_path), "feature_nets", "digits_8x8")
  assert classifier.load_classifier(directory).meta["steps"] == 3
  assert directory in net.description
  lines = capsys.readouterr().err.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith(f"jaxgen: no feature classifier in {directory}")
  feature_nets.get_feature_net(_eval(feature_net="classifier"), config, spec)
  assert capsys.readouterr().err == ""  # Loaded, not retrained.
  # A cache entry of an older architecture is retrained; a directory the user gave is not.
  meta_path = os.path.join(directory, "meta.json")
  with open(meta_path) as f:
    meta = json.load(f)
  with open(meta_path, "w") as f:
    json.dump({**meta, "arch_version": 1}, f)
  with pytest.raises(ValueError, match=r"architecture version 1, this jaxgen uses 3; delete"):
    feature_nets.get_feature_net(_eval(feature_net_dir=directory), config, spec)
  feature_nets.get_feature_net(_eval(), config, spec)
  assert capsys.readouterr().err.startswith("jaxgen: no feature classifier in")
  assert classifier.load_classifier(directory).meta["arch_version"] == 3


@pytest.mark.parametrize("fields, error, message", [
    (dict(feature_net="foo"), ValueError,
     r"^unknown eval.feature_net 'foo'; choose one of: auto, classifier, inception, none$"),
    (dict(feature_net="inception", inception_weights="/nonexistent.npz"), DataError,
     r"^eval.inception_weights: no such file /nonexistent.npz$"),
])
def test_bad_feature_net_fields_give_one_line_errors(fields, error, message):
  config = digits_config()
  with pytest.raises(error, match=message):
    feature_nets.get_feature_net(_eval(**fields), config, data.get_dataset(config).spec)


def test_classifier_for_another_image_size_is_rejected(digits_classifier_dir):
  config = digits_config(8)
  with pytest.raises(ValueError, match=r"holds a classifier for digits \(16, 16, 1\), not "
                                       r"digits \(8, 8, 1\)"):
    feature_nets.get_feature_net(_eval(feature_net_dir=digits_classifier_dir), config,
                                 data.get_dataset(config).spec)
