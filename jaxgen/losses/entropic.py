"""Entropic GAN objectives (Balaji, Hassani, Chellappa, Feizi, NeurIPS 2019, eq. 6-7).

Two critic potentials D1 (on real y) and D2 (on generated yhat) maximise the dual of the
entropy-regularised OT cost W_lambda = min_P <P, C> + lambda KL(P || a b^T):
  dual = E D1(y) - E D2(yhat) - lambda/e E_ij exp((D1(y_j) - D2(yhat_i) - c_ij) / lambda),
whose maximum equals ott-jax's Sinkhorn `reg_ot_cost` for the same cost and epsilon. G
minimises the primal <P, C> with P's density exp((D1 - D2 - c)/lambda)/e held fixed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

COSTS = ("l1", "l2")


def pairwise_cost(fake: jax.Array, real: jax.Array, cost: str = "l1") -> jax.Array:
  """c_ij between fake_i [m, ...] and real_j [n, ...]: L1, or squared L2, summed over dims."""
  f, r = fake.reshape(fake.shape[0], -1), real.reshape(real.shape[0], -1)
  if cost == "l1":
    return jnp.sum(jnp.abs(f[:, None, :] - r[None, :, :]), axis=-1)
  if cost == "l2":
    sq = jnp.sum(f ** 2, 1)[:, None] + jnp.sum(r ** 2, 1)[None, :] - 2.0 * f @ r.T
    return jnp.maximum(sq, 0.0)
  raise ValueError(f"unknown cost {cost!r}; choose one of: {', '.join(COSTS)}")


def _log_density(d1_real: jax.Array, d2_fake: jax.Array, cost: jax.Array,
                 lam: jax.Array) -> jax.Array:
  """log of the coupling's density w.r.t. a b^T: (D1(y_j) - D2(yhat_i) - c_ij)/lam - 1."""
  return (d1_real[None, :] - d2_fake[:, None] - cost) / lam - 1.0


def entropic_dual(d1_real: jax.Array, d2_fake: jax.Array, cost: jax.Array,
                  lam: jax.Array) -> jax.Array:
  """The dual objective (to maximise) from D1(y) [n], D2(yhat) [m] and c [m, n]."""
  log_mass = jax.nn.logsumexp(_log_density(d1_real, d2_fake, cost, lam))
  mean_density = jnp.exp(log_mass - jnp.log(cost.size))
  return jnp.mean(d1_real) - jnp.mean(d2_fake) - lam * mean_density


def critic_loss(d1_real: jax.Array, d2_fake: jax.Array, cost: jax.Array,
                lam: jax.Array) -> jax.Array:
  """The critics' loss: minus the dual."""
  return -entropic_dual(d1_real, d2_fake, cost, lam)


def generator_loss(d1_real: jax.Array, d2_fake: jax.Array, cost: jax.Array,
                   lam: jax.Array) -> jax.Array:
  """G's primal loss E_ij [sg(exp((D1 - D2 - c)/lam)/e) c_ij]: gradients flow through c."""
  density = jax.lax.stop_gradient(jnp.exp(_log_density(d1_real, d2_fake, cost, lam)))
  return jnp.mean(density * cost)


def coupling(d1_real: jax.Array, d2_fake: jax.Array, cost: jax.Array,
             lam: jax.Array) -> jax.Array:
  """The transport plan P [m, n] the potentials imply (sums to ~1 at the optimum)."""
  return jnp.exp(_log_density(d1_real, d2_fake, cost, lam)) / cost.size
