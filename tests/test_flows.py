"""Flow layers and models: invertibility, log-dets against autodiff Jacobians, actnorm init,
bits/dim against closed forms, and tiny flows that learn ring8 and digits."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special

from jaxgen import config_base, data
from jaxgen.metrics import classifier
from jaxgen.models.flows import (ActNorm, Coupling, Flow2D, Glow, InvConv1x1, RealNVP,
                                 Squeeze)
from jaxgen.trainers.flow import flow


def _perturbed(module, x, scale=0.1):
  """Params of `module` initialised on x, then moved off the identity-like init."""
  params = module.init(jax.random.PRNGKey(0), x, method=module.forward)
  leaves, tree = jax.tree.flatten(params)
  keys = jax.random.split(jax.random.PRNGKey(1), len(leaves))
  leaves = [p + scale * jax.random.normal(k, p.shape) for p, k in zip(leaves, keys)]
  return jax.tree.unflatten(tree, leaves)


def _check_bijection(module, x, scale=0.1):
  """inverse(forward(x)) == x and logdet == log|det jacfwd(forward)| per example."""
  params = _perturbed(module, x, scale)
  z, logdet = jax.jit(lambda v: module.apply(params, v, method=module.forward))(x)
  back = jax.jit(lambda v: module.apply(params, v, method=module.inverse))(z)
  np.testing.assert_allclose(back, x, atol=2e-5)

  def single(xi):
    return module.apply(params, xi[None], method=module.forward)[0].reshape(-1)

  n = z[0].size
  jac = jax.jit(jax.vmap(jax.jacfwd(single)))(x).reshape(x.shape[0], n, n)
  np.testing.assert_allclose(logdet, jnp.linalg.slogdet(jac)[1], rtol=1e-4, atol=1e-3)
  return z, logdet


IMAGE = jax.random.normal(jax.random.PRNGKey(2), (2, 4, 4, 4))


@pytest.mark.parametrize("layer", [
    ActNorm(), InvConv1x1(lu=False), InvConv1x1(lu=True), Squeeze(),
    Coupling("channel", 0, 8, conv_impl="xla"),
    Coupling("channel", 1, 8, scale="tanh", conv_impl="xla"),
    Coupling("checkerboard", 0, 8, scale="tanh", conv_impl="xla"),
    Coupling("channel", 0, 8, additive=True, conv_impl="xla"),
], ids=["actnorm", "invconv", "invconv_lu", "squeeze", "affine_channel",
        "affine_channel_tanh_odd", "checkerboard_tanh", "additive"])
def test_layer_is_a_bijection_with_the_autodiff_logdet(layer):
  _check_bijection(layer, IMAGE)


@pytest.mark.parametrize("model,shape", [
    (Glow(shape=(4, 4, 1), levels=2, steps=1, hidden=4, conv_impl="xla"), (2, 4, 4, 1)),
    (RealNVP(shape=(4, 4, 1), levels=2, hidden=4, conv_impl="xla"), (2, 4, 4, 1)),
    (Flow2D(steps=4, hidden=8), (3, 2)),
], ids=["glow", "realnvp", "flow2d"])
def test_model_is_a_bijection_with_the_autodiff_logdet(model, shape):
  x = jax.random.normal(jax.random.PRNGKey(3), shape)
  z, _ = _check_bijection(model, x, scale=0.05)
  assert z.shape == (shape[0], math.prod(shape[1:]))


def test_actnorm_init_whitens_the_init_batch():
  x = 3.0 + 2.5 * jax.random.normal(jax.random.PRNGKey(4), (64, 4, 4, 3)) * jnp.arange(1, 4)
  layer = ActNorm()
  params = layer.init(jax.random.PRNGKey(0), x, method=layer.forward)
  y, logdet = layer.apply(params, x, method=layer.forward)
  np.testing.assert_allclose(jnp.mean(y, axis=(0, 1, 2)), 0.0, atol=1e-5)
  np.testing.assert_allclose(jnp.std(y, axis=(0, 1, 2)), 1.0, atol=1e-4)
  # log-det: 16 pixels x sum_c -log std_c
  expected = -16 * jnp.sum(jnp.log(jnp.std(x, axis=(0, 1, 2))))
  np.testing.assert_allclose(logdet[0], expected, rtol=1e-4)


def _flow2d_config(**flow_fields):
  config = config_base.flow_config("flow2d", "ring8")
  config.flow.update(steps=2, width=8, **flow_fields)
  config.train.batch_size = 16
  return config


def test_bits_per_dim_of_a_gaussian_flow_matches_the_closed_form():
  """An identity flow (couplings start at zero) with actnorm set to (mu, sigma) is the
  density N(mu, sigma^2 I): its bits/dim equals the Gaussian NLL / (D ln 2) in closed form."""
  config = _flow2d_config()
  f = flow(config, data.get_dataset(config.dataset).spec)
  state = f.trainer.init(jax.random.PRNGKey(0))
  mu, sigma = jnp.array([0.5, -1.0]), jnp.array([0.3, 2.0])
  params = dict(state.net.params)
  # First actnorm whitens N(mu, sigma^2); the second is the identity.
  params["ActNorm_0"] = {"loc": -mu, "logscale": -jnp.log(sigma)}
  params["ActNorm_1"] = {"loc": jnp.zeros(2), "logscale": jnp.zeros(2)}
  state = state.replace(net=state.net.replace(params=params))
  x = mu + sigma * jax.random.normal(jax.random.PRNGKey(5), (50, 2))
  metrics = f.trainer.eval_metrics(state, {"x": x, "y": jnp.zeros(50, jnp.int32)},
                                   jax.random.PRNGKey(6))
  nll = -np.sum(np.log(np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)),
                axis=-1)
  np.testing.assert_allclose(metrics["nll"], nll.mean(), rtol=1e-5)
  np.testing.assert_allclose(metrics["bpd"], nll.mean() / (2 * np.log(2)), rtol=1e-5)


@pytest.mark.parametrize("preprocess", ["none", "logit"])
def test_bits_per_dim_of_discrete_data_follows_the_dequantisation_convention(preprocess):
  """An untrained Glow is squeeze, actnorm, 1x1 conv (set to I), coupling (a fixed scale);
  bits/dim of 17-level data = (E[-log p(y)] - D log w) / (D ln 2), recomputed here in numpy."""
  config = config_base.flow_config("glow", "digits")
  config.flow.update(levels=1, steps=1, width=4, num_bins=17, preprocess=preprocess,
                     lu=False)
  config.train.batch_size = 8
  f = flow(config, data.get_dataset(config.dataset).spec)
  state = f.trainer.init(jax.random.PRNGKey(0))
  step = dict(jax.tree.map(np.asarray, state.net.params))
  step["InvConv1x1_0"] = {"kernel": np.eye(4, dtype=np.float32)}
  state = state.replace(net=state.net.replace(params=step))
  x = np.asarray(data.get_dataset(config.dataset).sample(8, seed=0)["x"])
  key = jax.random.PRNGKey(7)
  metrics = f.trainer.eval_metrics(state, {"x": x, "y": np.zeros(8, np.int32)}, key)
  w = 2 / 16
  y = x + w * (np.asarray(jax.random.uniform(key, x.shape)) - 0.5)
  log_det_pre = 0.0
  if preprocess == "logit":
    p = 0.05 + 0.9 * (y + 1 + w / 2) / (17 * w)
    y = special.logit(p)
    log_det_pre = np.sum(np.log(0.9 / (17 * w)) - np.log(p) - np.log1p(-p), axis=(1, 2, 3))
  an = step["ActNorm_0"]
  # The squeeze only permutes dimensions; actnorm is per channel after it.
  z = (y.reshape(8, 4, 2, 4, 2).transpose(0, 1, 3, 2, 4).reshape(8, 4, 4, 4) + an["loc"]) \
      * np.exp(an["logscale"])
  # The zero-initialised coupling scales its second half of channels by sigmoid(2) (Glow).
  s = special.expit(2.0)
  z[..., 2:] *= s
  log_p = -0.5 * np.sum(z ** 2 + np.log(2 * np.pi), axis=(1, 2, 3)) \
      + 16 * np.sum(an["logscale"]) + 32 * np.log(s) + log_det_pre
  bpd = (-log_p - 64 * np.log(w)) / (64 * np.log(2))
  np.testing.assert_allclose(metrics["bpd"], bpd.mean(), rtol=1e-4)


def _train(f, config, steps):
  dataset = data.get_dataset(config.dataset)
  state = f.trainer.init(jax.random.PRNGKey(config.seed))
  stream = dataset.batches(config.train.batch_size, seed=config.seed)

  def run(state, batches):
    return jax.lax.scan(f.trainer.train_step, state, batches)

  run = jax.jit(run)
  for _ in range(steps // 50):
    group = [next(stream) for _ in range(50)]
    batch = {k: np.stack([b[k] for b in group])[:, None] for k in group[0]}
    state, _ = run(state, batch)
  return state


def _heldout_bpd(f, config, state):
  held = classifier.held_out_dataset(config.dataset) or data.get_dataset(config.dataset)
  batch = held.sample(300, seed=1)
  return float(f.trainer.eval_metrics(state, batch, jax.random.PRNGKey(9))["bpd"])


def test_flow2d_learns_ring8():
  config = _flow2d_config()
  config.flow.update(steps=4, width=32)
  config.train.batch_size = 128
  f = flow(config, data.get_dataset(config.dataset).spec)
  before = _heldout_bpd(f, config, f.trainer.init(jax.random.PRNGKey(0)))
  after = _heldout_bpd(f, config, _train(f, config, 400))
  assert after < before - 1.0, (before, after)


def test_glow_learns_digits():
  """Held-out bits/dim of 17-level 8x8 digits drop by > 0.7 in 300 steps (a uniform model:
  log2 17 = 4.09)."""
  config = config_base.flow_config("glow", "digits")
  config.flow.update(levels=2, steps=1, width=16, num_bins=17)
  f = flow(config, data.get_dataset(config.dataset).spec)
  before = _heldout_bpd(f, config, f.trainer.init(jax.random.PRNGKey(0)))
  after = _heldout_bpd(f, config, _train(f, config, 300))
  assert after < before - 0.7, (before, after)  # measured: 4.66 -> 3.59


def test_coupling_networks_see_a_5x5_neighbourhood_in_both_image_axes():
  """conv 3x3 -> conv 1x1 -> conv 3x3: the output at a pixel depends on the conditioning
  half exactly within 2 rows and 2 columns of it (a 1-D kernel would see one row only)."""
  layer = Coupling("channel", 0, 8, conv_impl="xla")
  x = jax.random.normal(jax.random.PRNGKey(8), (1, 7, 7, 2))
  params = _perturbed(layer, x)
  jac = jax.jacfwd(lambda v: layer.apply(params, v, method=layer.forward)[0][0, 3, 3, 1])(x)
  seen = np.abs(np.asarray(jac[0, :, :, 0])) > 0  # d y_b[3, 3] / d x_a[r, c]
  expected = np.zeros((7, 7), bool)
  expected[1:6, 1:6] = True
  np.testing.assert_array_equal(seen, expected)
