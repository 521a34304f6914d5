"""Spectral normalization: converges to the true sigma, leaves eval state alone, covers
every weight of the 'spectral' models, and survives an Orbax checkpoint."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from jaxgen import nn as jnn
from jaxgen.checkpoint import Checkpointer
from jaxgen.data import DataSpec
from jaxgen.models import build_gan


class _Wrapped(nn.Module):
  """One spectrally normalized layer: 'dense' (10 -> 6) or 'conv' (3x3, 4 -> 5)."""
  kind: str

  @nn.compact
  def __call__(self, x, train=True):
    layer = (nn.Dense(6, use_bias=False) if self.kind == "dense" else
             jnn.Conv(5, (3, 3), use_bias=False, impl="xla"))
    return jnn.spectral_norm(layer, train)(x)


def _input(kind):
  shape = (3, 10) if kind == "dense" else (3, 6, 6, 4)
  return jax.random.normal(jax.random.PRNGKey(1), shape)


def _true_sigma(kernel):
  return np.linalg.svd(np.asarray(kernel).reshape(-1, kernel.shape[-1]), compute_uv=False)[0]


def _train_iterations(module, variables, x, n):
  step = jax.jit(lambda v: module.apply(v, x, train=True, mutable=["batch_stats"])[1])
  for _ in range(n):
    variables = {**variables, **step(variables)}
  return variables


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_power_iteration_finds_the_largest_singular_value(kind):
  module, x = _Wrapped(kind), _input(kind)
  variables = module.init(jax.random.PRNGKey(0), x)
  variables = _train_iterations(module, variables, x, 50)
  kernel = variables["params"]["Dense_0" if kind == "dense" else "Conv_0"]["kernel"]
  (sigma,) = jnn.spectral_sigmas(variables["batch_stats"]).values()
  sigma_svd = _true_sigma(kernel)
  assert abs(float(sigma) - sigma_svd) < 1e-2 * sigma_svd
  # The layer computes with kernel / sigma: its largest singular value is 1.
  out = module.apply(variables, x, train=False)
  if kind == "dense":
    normalized = module.apply(variables, jnp.eye(10), train=False)  # rows of W / sigma
    assert abs(_true_sigma(normalized) - 1.0) < 1e-2
    np.testing.assert_allclose(out, x @ (kernel / sigma_svd), rtol=1e-2, atol=1e-4)
  else:
    reference = jax.lax.conv_general_dilated(
        x, kernel / sigma_svd, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    np.testing.assert_allclose(out, reference, rtol=1e-2, atol=1e-4)
    assert abs(_true_sigma(kernel / sigma) - 1.0) < 1e-2


def test_one_step_estimate_is_below_the_truth_then_converges():
  """From a random u, v^T W u <= sigma(W); training steps carry u up to the SVD value."""
  module, x = _Wrapped("dense"), _input("dense")
  variables = module.init(jax.random.PRNGKey(0), x)
  truth = _true_sigma(variables["params"]["Dense_0"]["kernel"])
  sigma = lambda v: float(*jnn.spectral_sigmas(v["batch_stats"]).values())
  first = _train_iterations(module, variables, x, 1)
  later = _train_iterations(module, first, x, 20)
  assert sigma(first) < truth * (1 - 1e-3)
  assert abs(sigma(later) - truth) < 1e-2 * truth


def test_train_false_does_not_change_the_power_iteration_state():
  module, x = _Wrapped("conv"), _input("conv")
  variables = module.init(jax.random.PRNGKey(0), x)
  out, state = module.apply(variables, x, train=False, mutable=["batch_stats"])
  chex.assert_trees_all_equal(state["batch_stats"], variables["batch_stats"])
  np.testing.assert_array_equal(out, module.apply(variables, x, train=False))
  _, trained = module.apply(variables, x, train=True, mutable=["batch_stats"])
  u = lambda tree: [l for p, l in jax.tree_util.tree_leaves_with_path(tree)
                    if jax.tree_util.keystr(p).endswith("/u']")]
  assert not np.allclose(u(trained["batch_stats"])[0], u(variables["batch_stats"])[0])


SPEC = DataSpec("fake", (32, 32, 3), 10, "image")


@pytest.mark.parametrize("name,cond", [("dcgan", ""), ("dcgan", "projection"),
                                       ("resnet", "projection"), ("resnet", "acgan"),
                                       ("biggan", "projection"), ("mlp", "adcgan")])
def test_spectral_norm_reaches_every_weight_and_only_with_spectral(name, cond):
  spec = DataSpec("points", (2,), 8, "points") if name == "mlp" else SPEC
  x, y = jnp.zeros((2,) + spec.shape), jnp.zeros((2,), jnp.int32)
  for norm in ("spectral", "none"):
    config = ml_collections.ConfigDict(dict(
        name=name, width=8, latent_dim=8, cond=cond, attention_res=16,
        g_norm="batch" if name == "resnet" else "spectral", d_norm=norm))
    d = build_gan(config, spec).discriminator
    variables = jax.eval_shape(d.init, jax.random.PRNGKey(0), x, y)
    weights = [jax.tree_util.keystr(p) for p, l in
               jax.tree_util.tree_leaves_with_path(variables["params"]) if l.ndim >= 2]
    sigmas = jnn.spectral_sigmas(variables.get("batch_stats", {}))
    assert len(sigmas) == (len(weights) if norm == "spectral" else 0)
    if norm == "spectral":  # no BatchNorm left in an SN discriminator
      assert not [k for k in jax.tree_util.tree_leaves_with_path(variables["batch_stats"])
                  if "mean" in jax.tree_util.keystr(k[0])]


def test_spectral_state_survives_an_orbax_checkpoint(tmp_path):
  """flax names the state 'Conv_0/kernel/u'; the '/' must round-trip through Orbax."""
  module, x = _Wrapped("conv"), _input("conv")
  variables = module.init(jax.random.PRNGKey(0), x)
  checkpointer = Checkpointer(str(tmp_path), async_save=False)
  checkpointer.save(1, variables)
  checkpointer.wait()
  restored, step = checkpointer.restore(variables)
  assert step == 1
  chex.assert_trees_all_equal(restored, variables)
  checkpointer.close()
