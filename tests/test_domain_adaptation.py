"""The domain-adaptation trainers: gradient reversal, GTA's update, NW's proportions, the loop."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgen import config_base, train
from jaxgen.data import DataSpec
from jaxgen.losses.label_shift import mixture_mean, proportion_error
from jaxgen.models.domain_nets import FeatureExtractor, GTADiscriminator, GTAGenerator, MLPHead
from jaxgen.trainers import build_trainer
from jaxgen.trainers.dann import domain_loss, gradient_reversal
from jaxgen.trainers.gta import bce, d_loss_terms, f_loss_terms, g_loss_terms

SPEC = DataSpec("domain_adaptation", (8, 8, 3), 3, "image")
LR = 0.1


def tiny_config(trainer: str):
  """8x8 images, narrow nets, plain SGD (lr 0.1) for every net."""
  config = config_base.domain_adaptation_config(trainer, "digits", "digits", num_steps=20,
                                                image_size=8)
  config.da.update(width=4, feature_dim=6, classifier_hidden=(5,), critic_hidden=(7,),
                   gta_latent_dim=3, gta_g_width=4, gta_d_width=4,
                   conv_impl="xla")  # XLA convs compile faster at this size
  for net in config.optim:
    config.optim[net] = config_base.optimizer(lr=LR, name="sgd")
  return config


def tiny_batch(seed: int = 0, n: int = 4) -> dict:
  keys = jax.random.split(jax.random.PRNGKey(seed), 3)
  return {"x": jax.random.uniform(keys[0], (1, n, 8, 8, 3), minval=-1, maxval=1),
          "y": jnp.array([[0, 1, 2, 1]]),
          "x_t": jax.random.uniform(keys[1], (1, n, 8, 8, 3), minval=-1, maxval=1),
          "y_t": jnp.array([[2, 2, 0, 1]])}


def sgd(params, grads):
  return jax.tree.map(lambda p, g: p - LR * g, params, grads)


def test_gradient_reversal_flips_exactly_the_sign():
  x = jnp.array([0.5, -2.0, 3.0])
  w = jnp.array([1.0, 2.0, -4.0])
  np.testing.assert_array_equal(gradient_reversal(x, 0.7), x)
  grad = jax.grad(lambda x: jnp.sum(w * gradient_reversal(x, 0.7)))(x)
  np.testing.assert_allclose(grad, -0.7 * w, rtol=1e-6)


def test_reversal_through_the_feature_extractor_negates_only_its_gradient():
  """DANN's domain loss: F's gradient through the reversal is -lambda times the gradient
  without it; the domain classifier's own gradient is unchanged."""
  f, d = FeatureExtractor(4, 6, "xla"), MLPHead((7,), 1)
  x = tiny_batch()["x"][0]
  fp = f.init(jax.random.PRNGKey(1), x)["params"]
  dp = d.init(jax.random.PRNGKey(2), jnp.zeros((2, 6)))["params"]

  def loss(fp, dp, lam):
    h = f.apply({"params": fp}, x)
    h = h if lam is None else gradient_reversal(h, lam)
    logits = d.apply({"params": dp}, h)[:, 0]
    return domain_loss(logits[:2], logits[2:])
  plain = jax.grad(loss, argnums=(0, 1))(fp, dp, None)
  reversed_ = jax.grad(loss, argnums=(0, 1))(fp, dp, 0.3)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(b, -0.3 * a, rtol=1e-5, atol=1e-8),
               plain[0], reversed_[0])
  jax.tree.map(lambda a, b: np.testing.assert_allclose(b, a, rtol=1e-6), plain[1], reversed_[1])
  assert max(float(jnp.max(jnp.abs(g))) for g in jax.tree.leaves(plain[0])) > 1e-4


def test_gta_loss_terms_at_zero_logits():
  """With all logits 0: BCE = log 2 and a K-way CE = log K, weighted as the paper."""
  k, y = 3, jnp.array([0, 2])
  zero = (jnp.zeros(2), jnp.zeros((2, k)))
  d = d_loss_terms(zero, zero, zero, y)
  np.testing.assert_allclose(sum(d.values()), 3 * np.log(2) + np.log(3), rtol=1e-6)
  np.testing.assert_allclose(sum(g_loss_terms(zero, y).values()), np.log(2) + np.log(3),
                             rtol=1e-6)
  f = f_loss_terms(jnp.zeros((2, k)), zero, zero, y, adv_weight=0.1, alpha=0.3)
  np.testing.assert_allclose(sum(f.values()), np.log(3) * 1.1 + 0.03 * np.log(2), rtol=1e-6)
  np.testing.assert_allclose(bce(jnp.array([20.0]), True), 0.0, atol=1e-8)


def gta_reference(state, batch, config, f_sees_new_d: bool = True):
  """GTA's step written out by hand with SGD: D, then G (new D), C (old F features), F
  (new D, old G and C). `f_sees_new_d=False` is the wrong order, for contrast."""
  n = state.nets
  f, c = FeatureExtractor(4, 6, "xla"), MLPHead((5,), 3)
  g, d = GTAGenerator((8, 8, 3), 4, "xla"), GTADiscriminator(3, 4, "xla")
  xs, ys, xt = batch["x"][0], batch["y"][0], batch["x_t"][0]
  zs_key, zt_key = jax.random.split(jax.random.fold_in(state.key, state.step))
  zs, zt = jax.random.normal(zs_key, (4, 3)), jax.random.normal(zt_key, (4, 3))
  onehot = lambda labels: jax.nn.one_hot(labels, 4)
  ytgt = jnp.full((4,), 3)

  def gen(params, labels, h, z):
    v = {"params": params, "batch_stats": n["g"].batch_stats}
    return g.apply(v, jnp.concatenate([onehot(labels), h, z], -1), mutable=["batch_stats"])[0]

  def disc(params, x):
    v = {"params": params, "batch_stats": n["d"].batch_stats}
    return d.apply(v, x, mutable=["batch_stats"])[0]

  def ce(logits, y):
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y))

  def bce_(logits, label):
    return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, label)))

  feat = lambda p, x: f.apply({"params": p}, x)
  f0, c0, g0, d0 = n["f"].params, n["c"].params, n["g"].params, n["d"].params
  hs, ht = feat(f0, xs), feat(f0, xt)
  gs, gt = gen(g0, ys, hs, zs), gen(g0, ytgt, ht, zt)

  def ld(p):
    rs, rc = disc(p, xs)
    return bce_(rs, 1.0) + ce(rc, ys) + bce_(disc(p, gs)[0], 0.0) + bce_(disc(p, gt)[0], 0.0)
  d1 = sgd(d0, jax.grad(ld)(d0))

  def lg(p):
    s, cl = disc(d1, gen(p, ys, hs, zs))
    return ce(cl, ys) + bce_(s, 1.0)
  g1 = sgd(g0, jax.grad(lg)(g0))
  c1 = sgd(c0, jax.grad(lambda p: ce(c.apply({"params": p}, hs), ys))(c0))
  d_for_f = d1 if f_sees_new_d else d0

  def lf(p):
    hs_, ht_ = feat(p, xs), feat(p, xt)
    return (ce(c.apply({"params": c0}, hs_), ys)
            + 0.1 * ce(disc(d_for_f, gen(g0, ys, hs_, zs))[1], ys)
            + 0.1 * 0.3 * bce_(disc(d_for_f, gen(g0, ytgt, ht_, zt))[0], 1.0))
  f1 = sgd(f0, jax.grad(lf)(f0))
  return {"f": f1, "c": c1, "g": g1, "d": d1}


def _max_diff(a, b) -> float:
  return max(float(jnp.max(jnp.abs(x - y))) for x, y in zip(jax.tree.leaves(a),
                                                             jax.tree.leaves(b)))


def test_gta_step_matches_the_hand_written_update_order():
  config = tiny_config("gta")
  trainer = build_trainer(config, SPEC)
  state = trainer.init(jax.random.PRNGKey(0))
  batch = tiny_batch()
  new_state, metrics = jax.jit(trainer.train_step)(state, batch)
  expected = gta_reference(state, batch, config)
  for name in ("d", "g", "c", "f"):
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6),
                 new_state.nets[name].params, expected[name])
  wrong = gta_reference(state, batch, config, f_sees_new_d=False)
  assert _max_diff(new_state.nets["f"].params, wrong["f"]) > 1e-6  # the order is visible
  assert set(metrics) >= {"d_real", "d_class", "d_fake_s", "d_fake_t", "g_class", "f_tgt_adv"}


def test_mixture_mean_is_the_pi_weighted_class_means():
  values = jnp.array([1.0, 3.0, 10.0, -2.0, 4.0])
  labels = jnp.array([0, 0, 2, 2, 2])  # class 1 absent
  logits = jnp.log(jnp.array([0.5, 0.3, 0.2]))
  expected = (0.5 * 2.0 + 0.2 * 4.0) / 0.7  # class means 2 and 4, renormalised without class 1
  np.testing.assert_allclose(mixture_mean(values, labels, logits), expected, rtol=1e-6)
  np.testing.assert_allclose(proportion_error(logits, jnp.array([0, 0, 1, 2])),
                             0.5 * (0.0 + 0.05 + 0.05), rtol=1e-5)


def test_nw_proportions_follow_the_critic_by_hand():
  """One NW step with a frozen critic (lr 0): pi's logits move by -lr dS/dlogits with
  dS/dlogit_j = pi_j (m_j - S), m_j the class means of the critic on source features."""
  config = tiny_config("nw_adapt")
  config.optim.d.lr = 0.0
  trainer = build_trainer(config, SPEC)
  state = trainer.init(jax.random.PRNGKey(0))
  batch = tiny_batch()
  new_state, _ = jax.jit(trainer.train_step)(state, batch)
  n = state.nets
  h = n["f"].apply_fn({"params": n["f"].params}, batch["x"][0])
  values = n["d"].apply_fn({"params": n["d"].params}, h)[:, 0]
  means = np.array([values[0], (values[1] + values[3]) / 2, values[2]])
  pi = np.full(3, 1 / 3)
  s = float(pi @ means)
  np.testing.assert_allclose(new_state.nets["pi"].params["logits"], -LR * pi * (means - s),
                             rtol=1e-4, atol=1e-9)
  assert _max_diff(n["d"].params, new_state.nets["d"].params) == 0.0
  assert float(jnp.max(jnp.abs(new_state.nets["d"].params["Dense_0"]["kernel"]))) <= 0.01


@pytest.mark.parametrize("name", ["dann", "w_align"])
def test_adversarial_trainers_step_and_update_every_net(name):
  trainer = build_trainer(tiny_config(name), SPEC)
  state = trainer.init(jax.random.PRNGKey(0))
  new_state, metrics = jax.jit(trainer.train_step)(state, tiny_batch())
  assert all(np.isfinite(float(v)) for v in metrics.values())
  for net in ("f", "c", "d"):
    assert _max_diff(state.nets[net].params, new_state.nets[net].params) > 0, net


def test_source_only_runs_on_the_common_loop_with_source_validation_selection(tmp_path):
  """jaxgen.train: 20 steps, evaluation every 10; best.json picks by src_val_acc."""
  config = tiny_config("da_source_only")
  config.dataset.label_shift = "nw3"
  config.train.update(batch_size=16, steps_per_call=10, log_every=10)
  config.eval.num_samples = 64
  config.eval.batch_size = 32
  config.eval.every = 10
  workdir = str(tmp_path / "run")
  train.train_and_evaluate(config, workdir)
  with open(os.path.join(workdir, "best.json"), encoding="utf-8") as f:
    best = json.load(f)
  assert best["metric"] == "src_val_acc" and best["mode"] == "max"
  with open(os.path.join(workdir, "metrics.jsonl"), encoding="utf-8") as f:
    records = [json.loads(line) for line in f]
  evals = [r for r in records if "eval/target_acc" in r]
  assert len(evals) == 2 and 0 <= evals[-1]["eval/target_acc"] <= 1
  assert max(r["eval/src_val_acc"] for r in evals) == pytest.approx(best["value"])
