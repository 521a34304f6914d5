"""Each adversarial loss and penalty against values and gradients computed by hand."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import losses

REAL = jnp.array([2.0, -1.0])
FAKE = jnp.array([0.5, -3.0])


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def _expected(name):
  """(d_loss, g_loss, d d_loss/d real, d d_loss/d fake, d g_loss/d fake) by hand."""
  r, f = np.asarray(REAL, np.float64), np.asarray(FAKE, np.float64)
  sr, sf = _sigmoid(r), _sigmoid(f)
  if name in ("ns", "minimax"):
    d = np.mean(-np.log(sr)) + np.mean(-np.log(1 - sf))
    d_r, d_f = -(1 - sr) / 2, sf / 2
    if name == "ns":
      return d, np.mean(-np.log(sf)), d_r, d_f, -(1 - sf) / 2
    return d, np.mean(np.log(1 - sf)), d_r, d_f, -sf / 2
  if name == "hinge":
    d = np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f))
    return d, -np.mean(f), -(r < 1).astype(float) / 2, (f > -1).astype(float) / 2, -np.ones(2) / 2
  if name in ("wgan", "wgan_gp"):
    return np.mean(f) - np.mean(r), -np.mean(f), -np.ones(2) / 2, np.ones(2) / 2, -np.ones(2) / 2
  if name == "lsgan":
    d = 0.5 * (np.mean((r - 1) ** 2) + np.mean(f ** 2))
    return d, 0.5 * np.mean((f - 1) ** 2), (r - 1) / 2, f / 2, (f - 1) / 2
  raise AssertionError(name)


@pytest.mark.parametrize("name", ["ns", "minimax", "hinge", "wgan", "wgan_gp", "lsgan"])
def test_loss_values_and_gradients(name):
  loss = losses.get_loss(name)
  d, g, d_r, d_f, g_f = _expected(name)
  np.testing.assert_allclose(loss.d_loss(REAL, FAKE), d, rtol=1e-5)
  np.testing.assert_allclose(loss.g_loss(FAKE), g, rtol=1e-5)
  grad_r, grad_f = jax.grad(loss.d_loss, argnums=(0, 1))(REAL, FAKE)
  np.testing.assert_allclose(grad_r, d_r, rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(grad_f, d_f, rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(jax.grad(loss.g_loss)(FAKE), g_f, rtol=1e-5, atol=1e-7)


def test_all_registered_losses_are_tested():
  assert set(losses.LOSSES.names()) == {"ns", "minimax", "hinge", "wgan", "wgan_gp", "lsgan"}


def test_wgan_gp_implies_the_gradient_penalty():
  loss = losses.get_loss("wgan_gp")
  assert (loss.default_penalty, loss.default_penalty_weight) == ("gp", 10.0)
  assert losses.get_loss("wgan").default_penalty == ""


def test_gradient_penalty_of_a_linear_critic():
  # D(x) = <w, x> has gradient w everywhere, so the penalty is (||w|| - 1)^2 exactly.
  w = jnp.array([[3.0, 4.0]])
  d_fn = lambda x: (x.reshape(x.shape[0], -1) * w).sum(-1)
  real = jax.random.normal(jax.random.PRNGKey(0), (5, 2))
  fake = jax.random.normal(jax.random.PRNGKey(1), (5, 2))
  gp = losses.get_penalty("gp")(d_fn, real, fake, jax.random.PRNGKey(2))
  np.testing.assert_allclose(gp, (5.0 - 1.0) ** 2, rtol=1e-5)


def test_gradient_penalty_of_a_quadratic_critic_on_images():
  # D(x) = 0.5 ||x||^2 has gradient x; the penalty is E(||x_hat|| - 1)^2 at the interpolates.
  real = jax.random.normal(jax.random.PRNGKey(0), (4, 3, 3, 1))
  fake = jax.random.normal(jax.random.PRNGKey(1), (4, 3, 3, 1))
  key = jax.random.PRNGKey(2)
  d_fn = lambda x: 0.5 * jnp.sum(x ** 2, axis=(1, 2, 3))
  eps = jax.random.uniform(key, (4, 1, 1, 1))
  x_hat = np.asarray(eps * real + (1 - eps) * fake).reshape(4, -1)
  expected = np.mean((np.linalg.norm(x_hat, axis=1) - 1) ** 2)
  np.testing.assert_allclose(losses.get_penalty("gp")(d_fn, real, fake, key), expected,
                             rtol=1e-5)


def test_unknown_loss_names_the_field_and_choices():
  with pytest.raises(ValueError, match=r"unknown loss.name 'foo'; choose one of: .*hinge"):
    losses.get_loss("foo")
  with pytest.raises(ValueError, match=r"unknown loss.penalty 'r9'"):
    losses.get_penalty("r9")
