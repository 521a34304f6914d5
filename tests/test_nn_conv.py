"""jaxgen.nn.Conv / ConvTranspose compute flax's function with flax's parameters.

Each case checks impl='matmul' and impl='xla' against flax.linen: same parameter tree
(and init values), same output and same vjp w.r.t. the input and the parameters.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import nn as jnn
from jaxgen.nn.matmul_conv import conv_strided_patches

UP = ((2, 2), (2, 2))     # PyTorch ConvTranspose2d(k=4, s=2, p=1) in lax terms.
DOWN = ((1, 1), (1, 1))

# (input shape, features, kernel_size, strides, padding)
CONV_CASES = [
    ((2, 8, 8, 3), 5, (4, 4), 2, DOWN),           # DCGAN discriminator
    ((2, 16, 16, 4), 8, (4, 4), 2, DOWN),
    ((2, 8, 8, 3), 5, (4, 4), 2, "SAME"),
    ((2, 9, 7, 3), 5, (4, 4), 2, "SAME"),         # odd sizes
    ((2, 8, 8, 4), 5, (3, 3), 1, "SAME"),
    ((2, 4, 4, 6), 1, (4, 4), 1, "VALID"),        # 4x4 -> 1x1 head
    ((2, 4, 4, 40), 1, (4, 4), 1, "VALID"),
    ((2, 5, 5, 4), 3, (1, 1), 1, "SAME"),         # 1x1
    ((2, 7, 7, 4), 3, (1, 1), 2, "SAME"),
    ((2, 9, 9, 3), 4, (3, 3), 2, "SAME"),         # stride not dividing the kernel
    ((2, 2, 2, 64), 32, (4, 4), 2, DOWN),         # many channels, tiny maps
    ((1, 1, 1, 2), 3, (4, 4), 2, DOWN),
    ((2, 6, 6, 2), 3, (3, 3), 1, 1),              # int padding
    ((2, 6, 6, 2), 3, (3, 2), (2, 1), ((0, 2), (1, 0))),
    ((2, 6, 6, 2), 3, (3, 3), 1, ((2, -1), (0, 0))),   # negative = crop
    ((2, 8, 8, 3), 4, (3, 3), 1, "CIRCULAR"),
    ((2, 8, 8, 3), 4, (3, 3), 1, "REFLECT"),
    ((2, 8, 3), 4, (3,), 1, "CAUSAL"),            # 1-D
    ((2, 9, 3), 4, 3, 2, "SAME"),                 # int kernel_size = 1-D
    ((2, 5, 6, 4, 2), 3, (2, 3, 2), 2, "SAME"),   # 3-D
    ((3, 2, 8, 8, 3), 4, (4, 4), 2, DOWN),        # two batch axes
    ((8, 8, 3), 4, (4, 4), 2, DOWN),              # no batch axis
]

# (input shape, features, kernel_size, strides, padding, transpose_kernel)
CONV_T_CASES = [
    ((2, 4, 4, 6), 3, (4, 4), 2, UP, False),      # DCGAN generator
    ((2, 4, 4, 6), 3, (4, 4), 2, UP, True),
    ((2, 4, 4, 6), 3, (4, 4), 2, "SAME", False),
    ((2, 3, 5, 6), 3, (4, 4), 2, "SAME", True),
    ((2, 1, 1, 6), 3, (4, 4), 1, "VALID", False),  # 1x1 -> 4x4
    ((2, 1, 1, 6), 3, (4, 4), 1, "VALID", True),
    ((2, 2, 2, 64), 32, (4, 4), 2, UP, False),     # many channels, tiny maps
    ((2, 8, 8, 4), 40, (4, 4), 2, UP, False),      # features > in: gather path
    ((2, 5, 5, 3), 2, (3, 3), 2, "VALID", False),  # stride not dividing the kernel
    ((2, 5, 5, 3), 2, (3, 3), 1, "SAME", False),
    ((2, 3, 3, 3), 2, (1, 1), 2, "SAME", False),
    ((2, 4, 4, 3), 2, (4, 4), 2, ((3, 0), (1, 2)), False),
    ((2, 4, 4, 3), 2, (4, 4), 2, 0, False),
    ((2, 5, 5, 3), 2, (3, 3), 2, "CIRCULAR", False),
    ((2, 5, 5, 3), 2, (3, 3), 2, "CIRCULAR", True),
    ((2, 5, 3), 2, (4,), 2, "SAME", False),        # 1-D
    ((3, 2, 4, 4, 3), 2, (4, 4), 2, UP, False),    # two batch axes
]


def _normal(seed: int, shape) -> jax.Array:
  # numpy, not jax.random: compiling a sampler for every new shape is slow.
  return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), jnp.float32)


def _assert_close(actual, desired):
  actual, desired = np.asarray(actual), np.asarray(desired)
  assert actual.shape == desired.shape
  scale = max(1.0, float(np.max(np.abs(desired), initial=0.0)))
  np.testing.assert_allclose(actual, desired, rtol=1e-4, atol=1e-5 * scale)


def _check_against_flax(ref: nn.Module, make, x: jax.Array) -> None:
  """make(impl) builds our module; compares params, output and vjp to flax's `ref`."""
  key = jax.random.PRNGKey(0)
  params = jax.jit(ref.init)(key, x)   # jitted: eager init compiles op by op
  modules = [ref, make("matmul"), make("xla")]
  for module in modules[1:]:   # same parameter names and shapes as flax's
    assert (jax.tree.map(jnp.shape, jax.eval_shape(module.init, key, x))
            == jax.tree.map(jnp.shape, params))

  @jax.jit   # one compilation for all three modules keeps the test fast
  def outputs_and_vjps(params, x, cotangent):
    results = []
    for module in modules:
      out, vjp = jax.vjp(module.apply, params, x)
      results.append((out, vjp(cotangent)))
    return results

  shape = jax.eval_shape(ref.apply, params, x).shape
  cotangent = _normal(1, shape)
  expected, *ours = outputs_and_vjps(params, x, cotangent)
  for result in ours:
    jax.tree.map(_assert_close, result, expected)


@pytest.mark.parametrize("shape,features,kernel,strides,padding", CONV_CASES)
def test_conv_matches_flax(shape, features, kernel, strides, padding):
  x = _normal(2, shape)
  ref = nn.Conv(features, kernel, strides=strides, padding=padding)
  _check_against_flax(
      ref, lambda impl: jnn.Conv(features, kernel, strides=strides, padding=padding,
                                 impl=impl), x)


@pytest.mark.parametrize("shape,features,kernel,strides,padding,transpose_kernel",
                         CONV_T_CASES)
def test_conv_transpose_matches_flax(shape, features, kernel, strides, padding,
                                     transpose_kernel):
  x = _normal(2, shape)
  ref = nn.ConvTranspose(features, kernel, strides=strides, padding=padding,
                         transpose_kernel=transpose_kernel)
  _check_against_flax(
      ref, lambda impl: jnn.ConvTranspose(features, kernel, strides=strides,
                                          padding=padding,
                                          transpose_kernel=transpose_kernel, impl=impl),
      x)


@pytest.mark.parametrize("seed", range(4))
def test_random_configs_match_flax(seed):
  rng = np.random.default_rng(seed)
  for _ in range(2):
    k, s = int(rng.integers(1, 5)), int(rng.integers(1, 3))
    side = int(rng.integers(k, 10))
    cin, cout = int(rng.integers(1, 9)), int(rng.integers(1, 9))
    padding = ["SAME", "VALID", tuple(map(tuple, rng.integers(0, k, (2, 2)).tolist()))][
        int(rng.integers(3))]
    x = _normal(seed, (int(rng.integers(1, 4)), side, side + 1, cin))
    conv_kw = dict(strides=s, padding=padding, use_bias=bool(rng.integers(2)))
    _check_against_flax(nn.Conv(cout, (k, k), **conv_kw),
                        lambda impl: jnn.Conv(cout, (k, k), impl=impl, **conv_kw), x)
    t_kw = dict(conv_kw, transpose_kernel=bool(rng.integers(2)))
    _check_against_flax(nn.ConvTranspose(cout, (k, k), **t_kw),
                        lambda impl: jnn.ConvTranspose(cout, (k, k), impl=impl, **t_kw), x)


def test_param_trees_match_flax_without_bias_and_custom_init():
  x = jnp.ones((2, 4, 4, 3))
  init = dict(kernel_init=nn.initializers.normal(0.02), bias_init=nn.initializers.ones)
  pairs = [(nn.Conv(5, (4, 4), use_bias=False), jnn.Conv(5, (4, 4), use_bias=False)),
           (nn.Conv(5, (3, 3), **init), jnn.Conv(5, (3, 3), **init)),
           (nn.ConvTranspose(5, (4, 4), transpose_kernel=True, **init),
            jnn.ConvTranspose(5, (4, 4), transpose_kernel=True, **init))]
  for ref, ours in pairs:
    expected = jax.jit(ref.init)(jax.random.PRNGKey(0), x)
    got = jax.jit(ours.init)(jax.random.PRNGKey(0), x)
    assert jax.tree.structure(got) == jax.tree.structure(expected)
    jax.tree.map(np.testing.assert_array_equal, got, expected)


def test_dtype_promotion_matches_flax():
  x = _normal(0, (2, 8, 8, 3))
  ref = nn.Conv(4, (4, 4), strides=2, dtype=jnp.bfloat16)
  params = ref.init(jax.random.PRNGKey(0), x)
  expected = ref.apply(params, x)
  got = jnn.Conv(4, (4, 4), strides=2, dtype=jnp.bfloat16, impl="matmul").apply(params, x)
  assert got.dtype == expected.dtype == jnp.bfloat16
  np.testing.assert_allclose(np.asarray(got, np.float32), np.asarray(expected, np.float32),
                             rtol=5e-2, atol=5e-2)


def test_second_order_gradients_match_xla():
  """WGAN-GP differentiates the input gradient w.r.t. the parameters."""
  x = _normal(0, (2, 8, 8, 3))

  def penalty_grads(impl):
    class Critic(nn.Module):
      @nn.compact
      def __call__(self, x):
        h = jnn.Conv(4, (4, 4), strides=2, padding=DOWN, impl=impl)(x)
        h = jnn.ConvTranspose(3, (4, 4), strides=2, padding=UP, impl=impl)(jnp.tanh(h))
        return jnp.sum(jnp.tanh(h) ** 2)

    critic = Critic()
    params = jax.jit(critic.init)(jax.random.PRNGKey(1), x)
    penalty = lambda p: jnp.sum(jax.grad(critic.apply, argnums=1)(p, x) ** 2)
    return jax.jit(jax.grad(penalty))(params)

  jax.tree.map(_assert_close, penalty_grads("matmul"), penalty_grads("xla"))


def test_jit_and_auto_impl():
  assert jnn.resolve_impl("auto") == ("matmul" if jax.default_backend() == "cpu"
                                      else "xla")
  layer = jnn.ConvTranspose(3, (4, 4), strides=2, padding=UP)   # impl='auto'
  x = _normal(0, (2, 4, 4, 6))
  params = layer.init(jax.random.PRNGKey(0), x)
  ref = nn.ConvTranspose(3, (4, 4), strides=2, padding=UP)
  _assert_close(jax.jit(layer.apply)(params, x), ref.apply(params, x))


def test_auto_uses_matmuls_for_every_cpu_conv():
  if jax.default_backend() != "cpu":
    pytest.skip("the choice is CPU-only")
  assert jnn.resolve_impl("auto", (3, 3), (1, 1)) == "matmul"  # XLA's is slow in a scan
  assert jnn.resolve_impl("auto", (4, 4), (2, 2)) == "matmul"
  assert jnn.resolve_impl("auto", (1, 1), (1, 1)) == "matmul"
  assert jnn.resolve_impl("matmul", (3, 3), (1, 1)) == "matmul"


def test_unknown_impl_raises():
  with pytest.raises(ValueError) as info:
    jnn.check_impl("x")
  assert str(info.value) == "unknown model.conv_impl 'x'; choose one of: auto, matmul, xla"
  assert jnn.check_impl("matmul") == "matmul"
  with pytest.raises(ValueError, match="unknown model.conv_impl 'fast'"):
    jnn.Conv(4, (3, 3), impl="fast").init(jax.random.PRNGKey(0), jnp.ones((1, 4, 4, 2)))
  with pytest.raises(ValueError, match="unknown model.conv_impl 'fast'"):
    jnn.conv_transpose(jnp.ones((1, 4, 4, 2)), jnp.ones((4, 4, 2, 3)), (2, 2), "SAME",
                       impl="fast")


@pytest.mark.parametrize("kernel,strides,pads", [((3, 3), (2, 2), ((0, 0), (0, 0))),
                                                 ((3, 3), (2, 2), ((1, 1), (1, 1))),
                                                 ((1, 7), (1, 1), ((0, 0), (3, 3))),
                                                 ((2, 3), (2, 1), ((1, 0), (0, 2)))])
def test_strided_patches_conv_matches_lax(kernel, strides, pads):
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 11, 10, 3))
  w = jax.random.normal(jax.random.PRNGKey(1), kernel + (3, 5))
  ref = jax.lax.conv_general_dilated(x, w, strides, pads,
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
  ours = conv_strided_patches(x, w, strides, pads)
  np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
