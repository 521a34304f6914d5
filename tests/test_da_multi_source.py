"""Multi-source domains (jaxgen/data/multi_source.py), CMSS and DMG (jaxgen/trainers)."""

import itertools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgen import config_base, data, train
from jaxgen.data import domains
from jaxgen.data.digits import load_digits_split
from jaxgen.errors import ConfigError
from jaxgen.models import multi_source_nets as msn
from jaxgen.trainers import build_trainer
from jaxgen.trainers.cmss import weight_per_domain
from jaxgen.trainers.dmg import mask_probs

CLASSES = 4


def _register(name, loader, num_classes=10):
  """A domain for these tests only (jaxgen.data.domains' registry)."""
  if name not in domains.DOMAINS.names():
    domains.NUM_CLASSES[name] = num_classes
    domains.DOMAINS.register(name)(loader)


def _coded(k):
  """Domain k: 8x8 RGB images whose every pixel is 40 k + 10 y, labels y = i mod 4."""
  def load(split, data_dir, domain_seed):
    y = (np.arange(200) % CLASSES).astype(np.int32)
    x = np.broadcast_to((40 * k + 10 * y)[:, None, None, None], (200, 8, 8, 3))
    return x.astype(np.uint8), y
  return load


def _digits_rgb(invert):
  def load(split, data_dir, domain_seed):
    x, y = load_digits_split("all")
    x = (x.astype(np.uint16) * 255 // 16).astype(np.uint8)
    if invert:  # another domain: inverted strokes drawn in red only
      x = np.concatenate([255 - x, np.zeros_like(x), np.zeros_like(x)], -1)
    else:
      x = np.repeat(x, 3, -1)
    return x, y
  return load


for _k in range(3):
  _register(f"test_coded{_k}", _coded(_k), CLASSES)
_register("test_digits", _digits_rgb(False))
_register("test_digits_copy", _digits_rgb(False))
_register("test_digits_inverted", _digits_rgb(True))


def tiny_config(trainer, domain_set, held_out, image_size=0, num_steps=20):
  """Narrow nets, Adam 1e-3, XLA convs (faster to compile at 8x8)."""
  config = config_base.multi_source_config(trainer, domain_set, held_out, num_steps=num_steps,
                                           image_size=image_size, max_examples=0)
  config.da.update(width=4, feature_dim=8, classifier_hidden=(8,), critic_hidden=(16,),
                   conv_impl="xla")
  if trainer == "cmss":
    config.cmss.update(cm_width=4, cm_feature_dim=8)
  for net in config.optim:
    config.optim[net] = config_base.optimizer(lr=1e-3, b1=0.9)
  return config


def _pixel_codes(x):
  """The uint8 pixel value back from the dataset's [-1, 1] images (one value per image)."""
  return np.rint((np.asarray(x)[:, 0, 0, 0] + 1) * 127.5).astype(int)


def test_multi_source_batches_carry_the_right_domain_index_and_label():
  """Held out the middle domain: sources are domains 0 and 2 with d = 0, 1; every image's
  pixel code 40 k + 10 y matches its d and y, and the target is all domain 1."""
  config = tiny_config("da_source_only", "test_coded0,test_coded1,test_coded2",
                       "test_coded1").dataset
  ds = data.get_dataset(config)
  assert ds.source_names == ("test_coded0", "test_coded2") and ds.spec.name == "multi_source"
  assert ds.num_source == 2 * 160  # 20% of each source held out for validation
  batch = next(ds.batches(128, seed=3))
  np.testing.assert_array_equal(_pixel_codes(batch["x"]),
                                40 * np.array([0, 2])[batch["d"]] + 10 * batch["y"])
  np.testing.assert_array_equal(_pixel_codes(batch["x_t"]), 40 + 10 * batch["y_t"])
  assert set(np.unique(batch["d"])) == {0, 1} and set(np.unique(batch["y"])) == set(range(4))
  config.split = "test"
  val = data.get_dataset(config)
  assert val.num_source == 2 * 40
  config.held_out = ""  # the set's last domain
  assert data.get_dataset(config).target_name == "test_coded2"


def test_named_domain_sets_and_bad_fields():
  config = config_base.multi_source_config("dmg", "rotated", "fashion_mnist_rot75").dataset
  from jaxgen.data.multi_source import split_domains  # pylint: disable=g-import-not-at-top
  sources, target = split_domains(config)
  assert sources == tuple(f"fashion_mnist_rot{d}" for d in (0, 15, 30, 45, 60))
  assert target == "fashion_mnist_rot75"
  config.held_out = "fashion_mnist_m"
  with pytest.raises(ConfigError, match="dataset.held_out"):
    split_domains(config)
  config.domain_set = "nope"
  with pytest.raises(ConfigError, match="dataset.domain_set.*rotated"):
    split_domains(config)


def test_cmss_weights_are_a_distribution_and_favour_the_source_identical_to_the_target():
  """Sources: the target's own images and inverted red digits. Per batch B * w sums to B
  over the domains; from step 20 to 150 CM weighs the target-identical source above the
  other in > 90% of the steps and > 2x on average (at the start both are ~1)."""
  config = tiny_config("cmss", "test_digits,test_digits_inverted,test_digits_copy",
                       "test_digits_copy", num_steps=150)
  config.da.dann_schedule = "constant"
  config.da.dann_weight = 0.1
  ds = data.get_dataset(config.dataset)
  trainer = build_trainer(config, ds.spec)
  state = jax.jit(trainer.init)(jax.random.PRNGKey(0))

  @jax.jit
  def run(state, batches):
    return jax.lax.scan(trainer.train_step, state, batches)

  stream = ds.batches(32, seed=0)
  group = [next(stream) for _ in range(150)]
  batches = {k: np.stack([b[k] for b in group])[:, None] for k in group[0]}
  state, metrics = run(state, batches)
  counts = np.stack([(batches["d"][:, 0] == k).sum(-1) for k in range(2)], -1)
  w = np.stack([metrics["weight_src0"], metrics["weight_src1"]], -1)
  np.testing.assert_allclose((w * counts).sum(-1), 32, rtol=1e-4)  # sum_i B w_i = B
  assert np.all(w >= 0)
  first, later = w[:10].mean(0), w[20:]
  assert abs(first[0] - first[1]) < 0.3, first
  # With CM's gradient sign flipped (cmss.cm_weight = -1) the weights go the other way for
  # the first ~100 steps (checked once by hand), so both conditions fail.
  assert np.mean(later[:, 0] > later[:, 1]) > 0.9, later
  assert later[:, 0].mean() > 2 * later[:, 1].mean(), later.mean(0)


def test_weight_per_domain_by_hand():
  w = jnp.array([0.1, 0.2, 0.3, 0.4])
  out = weight_per_domain(w, jnp.array([0, 1, 1, 0]), 3)
  np.testing.assert_allclose([out["weight_src0"], out["weight_src1"], out["weight_src2"]],
                             [4 * 0.5 / 2, 4 * 0.5 / 2, 0.0], rtol=1e-6)


def test_straight_through_bernoulli_forward_is_the_hard_sample_backward_the_sigmoid():
  logits = jnp.array([-2.0, -0.5, 0.0, 0.7, 3.0])
  key = jax.random.PRNGKey(7)
  probs = jax.nn.sigmoid(logits)
  hard = msn.straight_through_bernoulli(probs, key)
  u = np.asarray(jax.random.uniform(key, probs.shape))
  np.testing.assert_array_equal(hard, (u < np.asarray(probs)).astype(np.float32))
  weights = jnp.array([1.0, -2.0, 3.0, 0.5, -1.0])
  grad = jax.grad(lambda l: jnp.sum(weights * msn.straight_through_bernoulli(
      jax.nn.sigmoid(l), key)))(logits)
  p = 1 / (1 + np.exp(-np.asarray(logits)))
  np.testing.assert_allclose(grad, np.asarray(weights) * p * (1 - p), rtol=1e-5)
  many = msn.straight_through_bernoulli(jnp.broadcast_to(probs, (20000, 5)), key)
  assert set(np.unique(many)) <= {0.0, 1.0}
  np.testing.assert_allclose(np.mean(many, 0), p, atol=0.015)


def test_soft_iou_and_overlap_penalty_by_hand():
  p, q = jnp.array([1.0, 0.5, 0.0]), jnp.array([0.5, 0.5, 1.0])
  # intersection 0.5 + 0.25 + 0 = 0.75; union (1) + (0.75) + (1) = 2.75
  assert float(msn.soft_iou(p, q)) == pytest.approx((0.75 + 1e-6) / (2.75 + 1e-6), rel=1e-6)
  probs = np.array([[0.9, 0.1, 0.4, 0.8], [0.2, 0.7, 0.5, 0.6], [0.3, 0.3, 0.9, 0.1]])
  ious = [np.sum(a * b) / np.sum(a + b - a * b)
          for a, b in itertools.combinations(probs, 2)]
  assert float(msn.overlap_penalty(jnp.asarray(probs))) == pytest.approx(np.mean(ious),
                                                                        rel=1e-5)
  assert float(msn.hard_iou(jnp.asarray(probs))) == pytest.approx(
      np.mean([1 / 3, 0 / 3, 0 / 2]), rel=1e-5)  # p > 0.5: {0,3} {1,3} {2}


def test_dmg_unseen_domain_uses_the_mean_of_the_source_masks():
  """eval_metrics' target loss equals CE(C(mean_k sigmoid(l_k) * F(x_t)), y_t) by hand;
  unseen_domain_mask is the plain mean."""
  config = tiny_config("dmg", "test_coded0,test_coded1,test_coded2", "test_coded2")
  ds = data.get_dataset(config.dataset)
  trainer = build_trainer(config, ds.spec)
  state = trainer.init(jax.random.PRNGKey(1))
  batch = {k: jnp.asarray(v) for k, v in next(ds.batches(16, seed=0)).items()}
  metrics = trainer.eval_metrics(state, batch, jax.random.PRNGKey(0))
  probs = np.asarray(mask_probs(state.nets))
  assert probs.shape == (2, 8) and np.ptp(probs) > 0.05  # two different source masks
  np.testing.assert_allclose(msn.unseen_domain_mask(jnp.asarray(probs)), probs.mean(0),
                             rtol=1e-6)
  nets = state.nets
  h = nets["f"].apply_fn({"params": nets["f"].params}, batch["x_t"])
  logits = nets["c"].apply_fn({"params": nets["c"].params}, h * probs.mean(0))
  ce = optax.softmax_cross_entropy_with_integer_labels(logits, batch["y_t"]).mean()
  assert float(metrics["target_loss"]) == pytest.approx(float(ce), rel=1e-5)
  own = nets["c"].apply_fn({"params": nets["c"].params},
                           nets["f"].apply_fn({"params": nets["f"].params}, batch["x"])
                           * probs[np.asarray(batch["d"])])
  ce_own = optax.softmax_cross_entropy_with_integer_labels(own, batch["y"]).mean()
  assert float(metrics["src_val_loss"]) == pytest.approx(float(ce_own), rel=1e-5)


def test_dmg_runs_on_the_common_loop_and_lowers_the_overlap(tmp_path):
  """jaxgen.train: 40 steps with the overlap weight 1; the masks' soft IoU falls and the
  evaluation reports the unseen-domain target accuracy."""
  config = tiny_config("dmg", "test_coded0,test_coded1,test_coded2", "test_coded2",
                       num_steps=40)
  config.dmg.overlap_weight = 1.0
  config.optim.m = config_base.optimizer(lr=0.05, b1=0.9)
  config.train.update(batch_size=16, steps_per_call=10, log_every=10)
  config.eval.update(num_samples=64, batch_size=32, every=20)
  workdir = str(tmp_path / "run")
  train.train_and_evaluate(config, workdir)
  with open(os.path.join(workdir, "metrics.jsonl"), encoding="utf-8") as f:
    records = [json.loads(line) for line in f]
  overlaps = [r["overlap_soft_iou"] for r in records if "overlap_soft_iou" in r]
  assert overlaps[-1] < overlaps[0] - 0.05, overlaps
  evals = [r for r in records if "eval/target_acc" in r]
  assert evals and 0 <= evals[-1]["eval/target_acc"] <= 1
