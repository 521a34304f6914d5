"""Evaluation: FID-digits sanity, the Evaluator, in-training eval with best tracking, the CLI."""

import hashlib
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

from jaxgen import data, evaluate, metrics, train
from jaxgen.checkpoint import Checkpointer
from jaxgen.errors import CheckpointError, DataError
from jaxgen.metrics import classifier, feature_nets, protocol
from jaxgen.trainers import Trainer, build_trainer
from jaxgen.writers import read_metrics
from tests.conftest import REPO, load_config, tiny_dcgan, tiny_ring8
from tests.test_classifier import digits_classifier_dir, digits_config  # noqa: F401


def _leaves(state):
  return [np.asarray(x) for x in jax.tree.leaves(jax.device_get(state))]


def _eval_fields(config, feature_net_dir, **fields):
  config.eval.update({**dict(num_samples=200, batch_size=100, kid_subsets=5,
                            feature_net_dir=feature_net_dir), **fields})
  return config


def tiny_dcgan16(num_steps, feature_net_dir, every=2):
  """The tiny DCGAN at the 16x16 of the shared test classifier, evaluated every 2 steps."""
  config = tiny_dcgan(num_steps)
  config.dataset.image_size = 16
  return _eval_fields(config, feature_net_dir, every=every)


def fake_trainer(sample, latent_dim=1, init=lambda key: jnp.zeros(()), eval_metrics=None):
  return Trainer(init=init, train_step=None, sample=sample,
                 noise=lambda key, n: jax.random.normal(key, (n, latent_dim)),
                 batches_per_step=1, eval_metrics=eval_metrics)


def resampler(images):
  """A 'generator' that draws real examples (state = the images): a perfect model."""
  def sample(state, z):
    u = jax.scipy.stats.norm.cdf(z[:, 0])
    return state[jnp.clip((u * state.shape[0]).astype(jnp.int32), 0, state.shape[0] - 1)]
  return fake_trainer(sample, init=lambda key: jnp.asarray(images))


# FID-digits sanity (the classifier's features, no generator).

@pytest.fixture(scope="module")
def digits_net(digits_classifier_dir):
  config = digits_config()
  return feature_nets.get_feature_net(
      ml_collections.ConfigDict(dict(feature_net="classifier",
                                     feature_net_dir=digits_classifier_dir)),
      config, data.get_dataset(config).spec)


@pytest.fixture(scope="module")
def halves():
  everything = data.get_dataset(digits_config(split="all"))
  x = everything.sample(everything.num_examples, seed=0)["x"]
  return x[:len(x) // 2], x[len(x) // 2:]


def _noised(x, sigma, seed=0):
  noise = np.random.default_rng(seed).standard_normal(x.shape).astype(np.float32)
  return np.clip(x + sigma * noise, -1.0, 1.0)


def test_fid_of_disjoint_halves_is_small_relative_to_noised_data(digits_net, halves):
  a, b = halves
  fa = digits_net.features(a)
  same = metrics.fid_from_features(fa, digits_net.features(b))
  noised = metrics.fid_from_features(fa, digits_net.features(_noised(b, 0.5)))
  assert same < 0.1 * noised


def test_fid_grows_monotonically_with_noise_strength(digits_net, halves):
  # Below sigma ~0.1 FID-digits stays within the halves' sampling noise (0.08); measured
  # at sigma 0.25/0.5/1 (the 300-step test classifier): 0.41, 2.8 and 13.
  a, b = halves
  fa = digits_net.features(a)
  fids = [metrics.fid_from_features(fa, digits_net.features(_noised(b, s)))
          for s in (0.0, 0.25, 0.5, 1.0)]
  assert all(lo < hi for lo, hi in zip(fids, fids[1:])), fids


# The Evaluator with stand-in generators.

def test_evaluator_scores_real_images_far_better_than_noise(digits_classifier_dir):
  config = _eval_fields(load_config("default"), digits_classifier_dir, num_samples=300)
  dataset = data.get_dataset(config.dataset)
  test_images = data.get_dataset(digits_config(split="test")).sample(360, seed=0)["x"]
  perfect = evaluate.Evaluator(config, resampler(test_images), dataset)
  noise = evaluate.Evaluator(config, fake_trainer(  # i.i.d. pixels in [-1, 1]
      lambda state, z: jnp.tanh(z).reshape(-1, 16, 16, 1), latent_dim=256), dataset)
  key = evaluate.eval_key(0)
  good = perfect.evaluate(test_images, key)
  bad = noise.evaluate(jnp.zeros(()), key)
  assert set(good) == set(perfect.metric_names()) == {
      "fid_digits", "kid_digits", "kid_digits_std", "is_digits", "is_digits_std",
      "precision_digits", "recall_digits", "density_digits", "coverage_digits"}
  assert good["fid_digits"] < 0.05 * bad["fid_digits"]
  assert good["kid_digits"] < 0.05 * bad["kid_digits"]
  assert good["is_digits"] > 7 > 2 > bad["is_digits"]  # ~10 balanced confident classes
  assert good["precision_digits"] > 0.6 > 0.1 > bad["precision_digits"]
  assert good["recall_digits"] > 0.6 > 0.1 > bad["recall_digits"]
  assert perfect.best_metric() == ("fid_digits", "min")
  assert perfect.evaluate(test_images, key) == good  # Same key, same numbers.


def test_truncation_bounds_latents_and_mixtures_get_mode_coverage():
  config = tiny_ring8()
  dataset = data.get_dataset(config.dataset)
  means, stds = jnp.asarray(dataset.means), jnp.asarray(dataset.stds)

  def on_the_modes(state, z):  # z[:, 0] picks a mode, z[:, 1:] the offset
    k = jnp.clip((jax.scipy.stats.norm.cdf(z[:, 0]) * 8).astype(jnp.int32), 0, 7)
    return means[k] + stds[k, None] * z[:, 1:]

  perfect = evaluate.Evaluator(config, fake_trainer(on_the_modes, latent_dim=3), dataset)
  assert perfect.feature_net is None and perfect.best_metric() == ("modes_covered", "max")
  result = perfect.evaluate(jnp.zeros(()), evaluate.eval_key(0))
  assert set(result) == {"modes_covered", "high_quality_fraction", "reverse_kl"}
  assert result["modes_covered"] == 8 and result["high_quality_fraction"] > 0.95

  identity = fake_trainer(lambda state, z: z, latent_dim=2)
  assert np.abs(evaluate.Evaluator(config, identity, dataset).samples(
      None, evaluate.eval_key(0))).max() > 2.0
  config.eval.truncation = 0.5
  z = evaluate.Evaluator(config, identity, dataset).samples(None, evaluate.eval_key(0))
  assert z.shape == (2000, 2) and np.abs(z).max() <= 0.5 and z.std() > 0.2


def test_trainer_eval_metrics_are_averaged_over_every_test_example():
  config = load_config("default")
  config.eval.update(dict(feature_net="none", num_samples=300, batch_size=100))
  dataset = data.get_dataset(config.dataset)

  def eval_metrics(state, batch, key):
    return {"mean_x": jnp.mean(batch["x"]), "batch": jnp.float32(batch["x"].shape[0])}

  trainer = fake_trainer(lambda s, z: z, eval_metrics=eval_metrics)
  evaluator = evaluate.Evaluator(config, trainer, dataset)
  result = evaluator.evaluate(jnp.zeros(()), evaluate.eval_key(0))
  # Brute force: all 360 test digits at once (batches of 100, 100, 100 and 60).
  test = data.get_dataset(digits_config(split="test"))
  assert test.num_examples == 360
  expected = test.sample(360, seed=5)["x"].mean(dtype=np.float64)
  assert result == pytest.approx({"mean_x": expected, "batch": (300 * 100 + 60 * 60) / 360},
                                 rel=1e-6)
  assert evaluator.protocol["heldout"] == {"split": "test", "examples": 360}
  assert sorted(evaluator.metric_names()) == ["batch", "mean_x"]
  assert evaluator.best_metric() is None  # Nothing FID-like: no best tracking by default.
  config.eval.best_metric = "mean_x"
  assert evaluate.Evaluator(config, trainer, dataset).best_metric() == ("mean_x", "min")


def test_autoencoder_heldout_metrics_equal_a_brute_force_pass_over_the_split():
  config = load_config("ae_fashion_mnist")
  config.dataset.update(dict(name="digits", image_size=8))
  config.model.update(dict(width=8, latent_dim=4))
  config.eval.update(dict(feature_net="none", num_samples=100, batch_size=100))
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  state = trainer.init(jax.random.PRNGKey(0))
  result = evaluate.Evaluator(config, trainer, dataset).evaluate(state, evaluate.eval_key(0))
  test = data.get_dataset(digits_config(image_size=8, split="test"))
  everything = test.sample(test.num_examples, seed=0)  # 360 = 3 x 100 + 60
  by_hand = trainer.eval_metrics(state, everything, jax.random.PRNGKey(1))
  assert set(result) == set(by_hand) >= {"mse", "recon"}
  for name, value in by_hand.items():
    assert result[name] == pytest.approx(float(value), rel=1e-5), name


def _write_idx(directory, prefix, n, seed=0):
  """MNIST-format files of n random 28x28 images and labels (IDX: big-endian header)."""
  rng = np.random.default_rng(seed)
  os.makedirs(directory, exist_ok=True)
  images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
  labels = np.arange(n, dtype=np.uint8) % 10
  with open(os.path.join(directory, f"{prefix}-images-idx3-ubyte"), "wb") as f:
    f.write(np.array([0x803, n, 28, 28], ">u4").tobytes() + images.tobytes())
  with open(os.path.join(directory, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
    f.write(np.array([0x801, n], ">u4").tobytes() + labels.tobytes())


def test_a_missing_test_split_is_a_data_error_not_a_silent_training_set(tmp_path):
  directory = str(tmp_path / "idx")
  _write_idx(directory, "train", 40)  # No t10k-* files.
  config = load_config("default")
  config.dataset.update(dict(name="mnist", data_dir=directory, image_size=0))
  config.eval.update(dict(feature_net="none", num_samples=16, batch_size=16))
  dataset = data.get_dataset(config.dataset)
  trainer = fake_trainer(lambda s, z: z, eval_metrics=lambda state, batch, key: {
      "mean_x": jnp.mean(batch["x"])})
  with pytest.raises(DataError, match=r"^dataset 'mnist': cannot read its held-out 'test' "
                     r"split \(.*t10k-images-idx3-ubyte.*\); provide that split, or set "
                     r"eval.heldout_split='train' to measure on the training data$"):
    evaluate.Evaluator(config, trainer, dataset)
  config.eval.heldout_split = "train"  # Asked for: measured on, and labelled, 'train'.
  evaluator = evaluate.Evaluator(config, trainer, dataset)
  assert evaluator.protocol["heldout"] == {"split": "train", "examples": 40}
  result = evaluator.evaluate(jnp.zeros(()), evaluate.eval_key(0))
  assert result["mean_x"] == pytest.approx(
      dataset.sample(40, seed=0)["x"].mean(dtype=np.float64), rel=1e-6)
  with pytest.raises(DataError, match=r"held-out 'test' split .* set held_out_split='train'"):
    classifier.train_classifier(config.dataset, steps=1, batch_size=8)  # Before training.


@pytest.mark.parametrize("field, value, message", [
    ("every", -1, r"^eval.every must be >= 0, got -1$"),
    ("truncation", -0.5, r"^eval.truncation must be >= 0 \(0 = off\), got -0.5$"),
    ("best_mode", "up", r"^unknown eval.best_mode 'up'; choose one of: auto, min, max$"),
    ("best_metric", "fid", r"^eval.best_metric 'fid' is not evaluated here; choose one of: "
                           r"fid_digits, kid_digits, is_digits, kid_digits_std"),
])
def test_bad_eval_fields_fail_before_training_with_one_line(
    digits_classifier_dir, workdir, field, value, message):
  config = tiny_dcgan16(4, digits_classifier_dir)
  config.eval[field] = value
  with pytest.raises(ValueError, match=message):
    train.train_and_evaluate(config, workdir)
  assert not os.path.exists(os.path.join(workdir, "checkpoints"))


# In-training evaluation and best-checkpoint tracking.

def test_trained_dcgan_has_a_much_lower_fid_than_untrained(digits_classifier_dir, workdir):
  # Measured (default config, 500 samples, the 300-step test classifier): FID-digits
  # 117 untrained, 57 after 50 steps, 12 after 100, 2.2 after 150, 0.85 after 200.
  config = load_config("default")
  config.train.update(dict(num_steps=100, log_every=50, progress_bar=False))
  _eval_fields(config, digits_classifier_dir, every=100, num_samples=500)
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  untrained = evaluate.Evaluator(config, trainer, dataset).evaluate(
      trainer.init(jax.random.PRNGKey(config.seed)), evaluate.eval_key(config.seed))
  train.train_and_evaluate(config, workdir)
  trained = [r for r in read_metrics(workdir) if "eval/fid_digits" in r]
  assert [r["step"] for r in trained] == [100]
  assert trained[0]["eval/fid_digits"] < 0.3 * untrained["fid_digits"]


@pytest.fixture(scope="module")
def evaluated_run(digits_classifier_dir, tmp_path_factory):
  """(workdir, final state) of a tiny DCGAN run evaluated at steps 2, 4 and 6."""
  workdir = str(tmp_path_factory.mktemp("evaluated") / "run")
  return workdir, train.train_and_evaluate(tiny_dcgan16(6, digits_classifier_dir), workdir)


def test_in_training_eval_logs_metrics_and_keeps_the_best_state(digits_classifier_dir,
                                                                 evaluated_run):
  workdir, _ = evaluated_run
  evals = [r for r in read_metrics(workdir) if "eval/fid_digits" in r]
  assert [r["step"] for r in evals] == [2, 4, 6]
  assert all(np.isfinite(r["eval/kid_digits"]) and r["eval/time_s"] > 0 for r in evals)
  best = min(evals, key=lambda r: r["eval/fid_digits"])
  assert evaluate.read_best(workdir) == {"step": best["step"], "metric": "fid_digits",
                                         "mode": "min", "value": best["eval/fid_digits"]}
  assert os.listdir(os.path.join(workdir, "best", "checkpoints")) == [str(best["step"])]
  # The saved state is the one evaluated: re-evaluating it gives the logged number.
  config = tiny_dcgan16(6, digits_classifier_dir)
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  state, step = Checkpointer(os.path.join(workdir, "best")).restore(
      trainer.init(jax.random.PRNGKey(0)))
  assert step == best["step"]
  again = evaluate.Evaluator(config, trainer, dataset).evaluate(state, evaluate.eval_key(0))
  assert again["fid_digits"] == pytest.approx(best["eval/fid_digits"], rel=1e-6)


def test_eval_on_and_off_give_identical_params(digits_classifier_dir, evaluated_run, workdir):
  _, on = evaluated_run
  off = train.train_and_evaluate(tiny_dcgan16(6, digits_classifier_dir, every=0), workdir)
  assert not os.path.exists(os.path.join(workdir, "best.json"))
  assert not any("eval/fid_digits" in r for r in read_metrics(workdir))
  for a, b in zip(_leaves(on), _leaves(off), strict=True):
    np.testing.assert_array_equal(a, b)


def test_resumed_run_continues_best_tracking(digits_classifier_dir, evaluated_run, workdir):
  straight, _ = evaluated_run
  train.train_and_evaluate(tiny_dcgan16(4, digits_classifier_dir), workdir)
  train.train_and_evaluate(tiny_dcgan16(6, digits_classifier_dir), workdir)  # from step 4
  assert evaluate.read_best(workdir) == evaluate.read_best(straight)
  assert (os.listdir(os.path.join(workdir, "best", "checkpoints"))
          == os.listdir(os.path.join(straight, "best", "checkpoints")))


def test_best_tracker_reads_best_json_back(tmp_path):
  workdir = str(tmp_path)
  state = {"w": jnp.arange(3.0)}
  tracker = evaluate.BestTracker(workdir, "fid_digits", "min")
  assert tracker.update(2, {"fid_digits": 5.0}, state)
  assert not tracker.update(4, {"fid_digits": 6.0}, state)
  tracker.close()
  resumed = evaluate.BestTracker(workdir, "fid_digits", "min")
  assert resumed.best == {"step": 2, "metric": "fid_digits", "mode": "min", "value": 5.0}
  assert not resumed.update(6, {"fid_digits": 5.5}, state)
  assert not resumed.update(6, {"fid_digits": float("nan")}, state)
  assert resumed.update(8, {"fid_digits": 4.0}, {"w": jnp.ones(3)})
  resumed.close()
  restored, step = Checkpointer(os.path.join(workdir, "best")).restore(state)
  assert step == 8 and os.listdir(os.path.join(workdir, "best", "checkpoints")) == ["8"]
  np.testing.assert_array_equal(restored["w"], np.ones(3))
  assert evaluate.BestTracker(workdir, "kid_digits", "min").best is None  # Another metric.
  assert evaluate.BestTracker(workdir, "fid_digits", "max").best is None
  higher = evaluate.BestTracker(str(tmp_path / "max"), "modes_covered", "max")
  assert higher.improves(3.0) and higher.update(2, {"modes_covered": 3.0}, state)
  assert higher.improves(4.0) and not higher.improves(2.0)
  higher.close()


# The command line.

def test_evaluate_cli_writes_eval_json_and_appends_to_metrics(digits_classifier_dir,
                                                              evaluated_run, tmp_path):
  workdir = str(tmp_path / "run")
  shutil.copytree(evaluated_run[0], workdir)
  before = read_metrics(workdir)
  result = subprocess.run(
      [sys.executable, "-m", "jaxgen.evaluate", "--workdir", workdir, "--num_samples=300",
       f"--feature_net_dir={digits_classifier_dir}"],
      cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr
  with open(os.path.join(workdir, "eval.json")) as f:
    record = json.load(f)
  assert record["step"] == 6 and record["num_samples"] == 300
  assert record["feature_net"].startswith("classifier digits 16x16")
  assert record["wall_time_s"] > 0 and record["checkpoint"].endswith("checkpoints/6")
  assert json.loads(result.stdout.strip().splitlines()[-1]) == record
  after = read_metrics(workdir)
  assert after[:-1] == before
  assert after[-1] == {"step": 6, **{f"eval/{k}": v for k, v in record["metrics"].items()},
                       "eval/protocol": record["protocol"]}
  # The protocol, each field against an independent source.
  with open(os.path.join(digits_classifier_dir, "params.npz"), "rb") as f:
    sha = hashlib.sha256(f.read()).hexdigest()
  with open(os.path.join(digits_classifier_dir, "meta.json")) as f:
    meta = json.load(f)
  assert record["protocol"] == {
      "feature_net": {"name": "classifier", "directory": digits_classifier_dir,
                      "weights_sha256": sha, "dataset": "digits", "steps": meta["steps"],
                      "arch_version": meta["arch_version"], "accuracy": meta["accuracy"],
                      "accuracy_split": "test", "accuracy_examples": 360,
                      "input": "16x16 images, no resize (trained at the data resolution)"},
      "data": {"dataset": "digits", "shape": [16, 16, 1], "split": "train",
               "resize": "native resolution -> 16x16, antialiased bilinear "
                         "(jaxgen.data.images)"},
      "reference": {"split": "train", "examples": 300, "split_size": 1437},
      "num_samples": 300, "batch_size": 100, "truncation": 0.0, "seed": 0,
      "key": "fold_in(PRNGKey(seed), 2)", "step": 6}
  in_training = [r for r in before if "eval/fid_digits" in r]
  assert [r["eval/protocol"]["step"] for r in in_training] == [2, 4, 6]
  assert in_training[0]["eval/protocol"]["reference"]["examples"] == 200
  assert set(record["metrics"]) >= {"fid_digits", "kid_digits", "is_digits", "precision_digits"}
  # --best evaluates best/ with the run's own eval settings: it reproduces best.json.
  best = evaluate.evaluate_run(workdir, best=True)
  assert best["step"] == evaluate.read_best(workdir)["step"]
  assert best["metrics"]["fid_digits"] == pytest.approx(evaluate.read_best(workdir)["value"],
                                                        rel=1e-6)


def test_classifier_accuracy_is_measured_when_its_meta_lacks_it(digits_classifier_dir,
                                                               tmp_path):
  copy = str(tmp_path / "net")
  shutil.copytree(digits_classifier_dir, copy)
  with open(os.path.join(copy, "meta.json")) as f:
    meta = json.load(f)
  del meta["accuracy"]
  with open(os.path.join(copy, "meta.json"), "w") as f:
    json.dump(meta, f)
  measured = protocol.classifier_accuracy(copy, digits_config())
  test = data.get_dataset(digits_config(split="test")).sample(360, seed=1)
  expected = classifier.accuracy(classifier.load_classifier(copy), test["x"], test["y"])
  assert measured == {"accuracy": pytest.approx(expected), "accuracy_split": "test",
                      "accuracy_examples": 360}
  assert 0.9 < expected


def test_evaluate_errors_name_the_missing_piece(digits_classifier_dir, evaluated_run, tmp_path):
  missing = str(tmp_path / "nope")
  result = subprocess.run([sys.executable, "-m", "jaxgen.evaluate", "--workdir", missing],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode == 1
  assert result.stderr.strip().splitlines() == [f"jaxgen: error: no run directory {missing}"]
  empty = str(tmp_path / "empty")
  os.makedirs(empty)
  with pytest.raises(CheckpointError, match=r"^no config.json in .*empty; is it a jaxgen"):
    evaluate.evaluate_run(empty)
  with open(os.path.join(empty, "config.json"), "w") as f:
    f.write(tiny_dcgan16(4, digits_classifier_dir).to_json())
  with pytest.raises(CheckpointError, match=r"^no checkpoint in .*empty/checkpoints; train"):
    evaluate.evaluate_run(empty)
  assert os.listdir(empty) == ["config.json"]  # Nothing created in a run without checkpoints.
  with pytest.raises(CheckpointError, match=r"no checkpoint for step 3 in .*; available: 4, 6$"):
    evaluate.evaluate_run(evaluated_run[0], 3)
