"""jaxgen.nn's pools against flax's nn.max_pool / nn.avg_pool: values and input gradients."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.nn import avg_pool_3x3_same, max_pool_2x2, max_pool_3x3


def _flax_pool(x):
  return nn.max_pool(x, (2, 2), strides=(2, 2))


@pytest.mark.parametrize("shape", [(3, 8, 8, 4), (2, 7, 5, 3), (1, 28, 28, 2)])
def test_values_and_gradient_match_flax_max_pool(shape):
  x = jax.random.normal(jax.random.PRNGKey(0), shape)  # continuous: no ties in a window
  ours, ref = max_pool_2x2(x), _flax_pool(x)
  assert ours.shape == ref.shape
  np.testing.assert_array_equal(ours, ref)
  weights = jax.random.normal(jax.random.PRNGKey(1), ref.shape)
  grad = lambda pool: jax.grad(lambda v: jnp.sum(weights * pool(v)))(x)
  np.testing.assert_array_equal(grad(max_pool_2x2), grad(_flax_pool))


def test_gradient_goes_only_to_each_window_maximum():
  x = jnp.array([[1.0, 4.0], [3.0, 2.0]]).reshape(1, 2, 2, 1)
  g = jax.grad(lambda v: jnp.sum(max_pool_2x2(v)))(x)
  np.testing.assert_array_equal(g.reshape(2, 2), [[0.0, 1.0], [0.0, 0.0]])


@pytest.mark.parametrize("shape", [(2, 9, 9, 3), (1, 8, 11, 2), (2, 3, 4, 5)])
@pytest.mark.parametrize("stride,pad", [(2, 0), (1, 1)])
def test_max_pool_3x3_equals_flax_max_pool(shape, stride, pad):
  x = jax.random.normal(jax.random.PRNGKey(0), shape)
  ref = lambda v: nn.max_pool(v, (3, 3), (stride, stride), ((pad, pad), (pad, pad)))
  ours = lambda v: max_pool_3x3(v, stride, pad)
  assert ours(x).shape == ref(x).shape
  np.testing.assert_array_equal(ours(x), ref(x))
  weights = jax.random.normal(jax.random.PRNGKey(1), ref(x).shape)
  grad = lambda pool: jax.grad(lambda v: jnp.sum(weights * pool(v)))(x)
  np.testing.assert_array_equal(grad(ours), grad(ref))


@pytest.mark.parametrize("shape", [(2, 9, 9, 3), (1, 1, 5, 2), (2, 2, 3, 4), (1, 17, 17, 8)])
def test_avg_pool_3x3_same_excludes_the_padding_like_flax(shape):
  x = jax.random.normal(jax.random.PRNGKey(0), shape)
  ref = nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=False)
  np.testing.assert_allclose(avg_pool_3x3_same(x), ref, rtol=1e-6, atol=1e-6)
  # The corner of a constant image averages 4 values, the centre 9: both give the constant.
  np.testing.assert_allclose(avg_pool_3x3_same(jnp.full(shape, 2.5)), 2.5, rtol=1e-6)
