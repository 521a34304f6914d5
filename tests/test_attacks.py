"""FGSM / PGD against closed forms: a linear model's worst case, per-example eps, restarts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.attacks import ATTACKS, fgsm, pgd

B, D = 6, 5


def _linear_problem(seed=0):
  """A linear score f(x) = w.x + b with labels y in {-1, 1}; loss = -y f(x) (minus margin)."""
  k1, k2, k3, k4 = jax.random.split(jax.random.PRNGKey(seed), 4)
  w = jax.random.normal(k1, (D,))
  b = jax.random.normal(k2, ())
  x = jax.random.normal(k3, (B, D))
  y = jnp.where(jax.random.bernoulli(k4, 0.5, (B,)), 1.0, -1.0)
  loss_fn = lambda v: -y * (v @ w + b)
  return w, x, y, loss_fn


@pytest.mark.parametrize("random_start", [True, False])
def test_pgd_linf_reaches_the_linear_worst_case(random_start):
  # The worst L-inf perturbation of a linear margin is -y eps sign(w) (Goodfellow et al.);
  # from any start, 10 steps of 0.25 eps reach that corner of the box exactly.
  w, x, y, loss_fn = _linear_problem()
  eps = 0.3
  x_adv = pgd(loss_fn, x, eps, jax.random.PRNGKey(1), norm="linf", steps=10,
              random_start=random_start)
  expected = x - eps * y[:, None] * jnp.sign(w)[None]
  np.testing.assert_allclose(x_adv, expected, atol=1e-6)
  np.testing.assert_allclose(loss_fn(x_adv) - loss_fn(x), eps * jnp.sum(jnp.abs(w)),
                             rtol=1e-5)


def test_pgd_l2_reaches_the_linear_worst_case():
  # L2 worst case: -y eps w / |w|_2, raising the loss by eps |w|_2.
  w, x, y, loss_fn = _linear_problem(seed=3)
  eps = 0.7
  x_adv = pgd(loss_fn, x, eps, jax.random.PRNGKey(2), norm="l2", steps=10,
              random_start=False)
  expected = x - eps * y[:, None] * (w / jnp.linalg.norm(w))[None]
  np.testing.assert_allclose(x_adv, expected, atol=1e-5)
  # From a random start the off-gradient part shrinks at every projection (about
  # halved per step of size eps): within 0.1% after 20 steps.
  x_rand = pgd(loss_fn, x, eps, jax.random.PRNGKey(2), norm="l2", steps=20, step_size=eps)
  gain = loss_fn(x_rand) - loss_fn(x)
  np.testing.assert_allclose(gain, eps * jnp.linalg.norm(w), rtol=1e-3)


def test_fgsm_and_targeted_pgd_on_a_linear_model():
  w, x, y, loss_fn = _linear_problem(seed=5)
  eps = 0.2
  np.testing.assert_allclose(fgsm(loss_fn, x, eps),
                             x - eps * y[:, None] * jnp.sign(w)[None], atol=1e-6)
  np.testing.assert_allclose(fgsm(loss_fn, x, eps, norm="l2"),
                             x - eps * y[:, None] * (w / jnp.linalg.norm(w))[None], atol=1e-6)
  # Targeted: minimises the loss, i.e. pushes the margin up by the same closed form.
  x_t = pgd(loss_fn, x, eps, jax.random.PRNGKey(0), targeted=True)
  np.testing.assert_allclose(x_t, x + eps * y[:, None] * jnp.sign(w)[None], atol=1e-6)


def _mlp_loss(seed=0):
  """A non-linear per-example loss: a random tanh MLP's first output."""
  k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
  w1 = jax.random.normal(k1, (D, 16))
  w2 = jax.random.normal(k2, (16,))
  return lambda v: jnp.tanh(v @ w1) @ w2


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_per_example_eps_is_respected_and_eps_zero_is_unchanged(norm):
  loss_fn = _mlp_loss()
  x = jax.random.uniform(jax.random.PRNGKey(4), (B, D), minval=-1, maxval=1)
  eps = jnp.array([0.0, 0.05, 0.1, 0.3, 0.0, 0.6])
  attack = jax.jit(lambda v, e, k: pgd(loss_fn, v, e, k, norm=norm, steps=7, restarts=3,
                                       bounds=(-1.0, 1.0)))
  x_adv = attack(x, eps, jax.random.PRNGKey(5))
  delta = np.asarray(x_adv - x)
  size = np.abs(delta).max(-1) if norm == "linf" else np.linalg.norm(delta, axis=-1)
  assert np.all(size <= np.asarray(eps) * (1 + 1e-6) + 1e-7), (size, eps)
  np.testing.assert_array_equal(x_adv[eps == 0], x[eps == 0])
  assert np.all(size[eps > 0] > 0.5 * np.asarray(eps)[eps > 0])  # it did move
  assert float(x_adv.min()) >= -1.0 and float(x_adv.max()) <= 1.0
  # A larger eps never lowers the attained loss here (more room, same starting point).
  assert np.all(np.asarray(loss_fn(x_adv))[eps > 0] > np.asarray(loss_fn(x))[eps > 0])


def test_restarts_keep_the_per_example_worst_case():
  # A loss with many local maxima (sin of a scaled coordinate): single starts disagree.
  x = jnp.linspace(-1.0, 1.0, 8)[:, None] * jnp.ones((1, 3))
  loss_fn = lambda v: jnp.sum(jnp.sin(7.0 * v) * jnp.array([1.0, 0.5, 0.25]), axis=-1)
  key = jax.random.PRNGKey(7)
  restarts = 5
  best = pgd(loss_fn, x, 1.0, key, steps=5, restarts=restarts)
  # Reference: the same restarts run one by one (same keys), best loss per example.
  single = jax.jit(lambda k, targeted: loss_fn(pgd(loss_fn, x, 1.0, k, steps=5,
                                                    targeted=targeted)), static_argnums=1)
  singles = jnp.stack([single(k, False) for k in jax.random.split(key, restarts)])
  np.testing.assert_allclose(loss_fn(best), singles.max(0), rtol=1e-5)
  assert bool(jnp.any(singles.max(0) > singles[0] + 1e-3))  # restarts mattered
  # Targeted: the lowest loss over the same restarts.
  lowest = pgd(loss_fn, x, 1.0, key, steps=5, restarts=restarts, targeted=True)
  targeted = jnp.stack([single(k, True) for k in jax.random.split(key, restarts)])
  np.testing.assert_allclose(loss_fn(lowest), targeted.min(0), rtol=1e-5)


def test_registry_and_unknown_norm():
  assert {"fgsm", "pgd"} <= set(ATTACKS.names())
  assert ATTACKS.get("pgd") is pgd
  with pytest.raises(ValueError, match="linf, l2"):
    pgd(lambda v: v.sum(-1), jnp.zeros((2, 3)), 0.1, jax.random.PRNGKey(0), norm="l1")
