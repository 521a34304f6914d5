"""Normalized Wasserstein between two datasets (Balaji, Chellappa, Feizi, ICCV 2019, eq. 4).

NW(P_X, P_Y) = min over shared components G_1..G_K and proportions pi_x, pi_y of
W(P_X, sum_k pi_x,k P_Gk) + W(P_Y, sum_k pi_y,k P_Gk). Here the components are given as
sample sets (the true components, or those of a trained NW-GAN, jaxgen/trainers/nwgan.py)
and only the proportions are fitted, so mixtures of the same components at different
proportions are at NW ~ 0 while their W is not. W is ott-jax's debiased Sinkhorn
divergence with the squared-Euclidean cost (so it estimates W2^2) on weighted point clouds.

    python experiments/normalized_wasserstein/nw_vs_w.py   # NW vs W, swapped proportions
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import jax
import jax.numpy as jnp
import optax
from ott.geometry import pointcloud
from ott.tools import sinkhorn_divergence


class NWResult(NamedTuple):
  distance: jax.Array  # NW estimate: W(X, mix(pi_x)) + W(Y, mix(pi_y)) at the fitted pi
  pi_x: jax.Array      # [K] fitted proportions of X's mixture
  pi_y: jax.Array      # [K] fitted proportions of Y's mixture


def wasserstein(x: jax.Array, y: jax.Array, a: jax.Array | None = None,
                b: jax.Array | None = None, *, epsilon: float = 0.01) -> jax.Array:
  """Debiased Sinkhorn divergence (~W2^2) between point clouds x [n, d], y [m, d].

  `a`, `b`: weights of the points (summing to 1); None = uniform.
  """
  x, y = x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1)
  value, _ = sinkhorn_divergence.sinkhorn_divergence(
      pointcloud.PointCloud, x, y, a=a, b=b, epsilon=epsilon)
  return value


def mixture_weights(logits: jax.Array, sizes: Sequence[int]) -> jax.Array:
  """Point weights of the concatenated components: pi_k / n_k for each of component k's
  n_k points, pi = softmax(logits)."""
  pi = jax.nn.softmax(logits)
  return jnp.concatenate([jnp.full((n,), p / n) for p, n in zip(pi, sizes)])


def mixture_wasserstein(x: jax.Array, components: Sequence[jax.Array], logits: jax.Array,
                        *, epsilon: float = 0.01) -> jax.Array:
  """W(P_X, sum_k softmax(logits)_k P_Ck), components C_k given as samples [n_k, d]."""
  support = jnp.concatenate([c.reshape(c.shape[0], -1) for c in components])
  weights = mixture_weights(logits, [c.shape[0] for c in components])
  return wasserstein(x, support, b=weights, epsilon=epsilon)


def fit_proportions(x: jax.Array, components: Sequence[jax.Array], *,
                    epsilon: float = 0.01, steps: int = 100,
                    learning_rate: float = 0.1) -> tuple[jax.Array, jax.Array]:
  """(min over pi of W(P_X, sum_k pi_k P_Ck), the minimising pi) by Adam on the logits."""
  loss = lambda logits: mixture_wasserstein(x, components, logits, epsilon=epsilon)
  tx = optax.adam(learning_rate)
  logits = jnp.zeros((len(components),))

  def step(carry, _):
    logits, opt_state = carry
    grads = jax.grad(loss)(logits)
    updates, opt_state = tx.update(grads, opt_state)
    return (optax.apply_updates(logits, updates), opt_state), None

  (logits, _), _ = jax.lax.scan(step, (logits, tx.init(logits)), None, length=steps)
  return loss(logits), jax.nn.softmax(logits)



def normalized_wasserstein(x: jax.Array, y: jax.Array, components: Sequence[jax.Array], *,
                           epsilon: float = 0.01, fit_epsilon: float | None = None,
                           steps: int = 100, learning_rate: float = 0.1) -> NWResult:
  """NW(P_X, P_Y) with the shared components C_k (samples [n_k, d]); pi's fitted per set.

  `fit_epsilon` (default `epsilon`): a larger entropic epsilon for fitting pi, which makes
  each Sinkhorn solve cheaper; the returned distance uses `epsilon`.
  """
  fit_epsilon = epsilon if fit_epsilon is None else fit_epsilon
  fitted = [fit_proportions(data, components, epsilon=fit_epsilon, steps=steps,
                            learning_rate=learning_rate)[1] for data in (x, y)]
  distance = sum(mixture_wasserstein(data, components, jnp.log(pi), epsilon=epsilon)
                 for data, pi in zip((x, y), fitted))
  return NWResult(distance=distance, pi_x=fitted[0], pi_y=fitted[1])
