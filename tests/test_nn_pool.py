"""jaxgen.nn.max_pool_2x2 against flax's nn.max_pool: values and input gradients."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.nn import max_pool_2x2


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
