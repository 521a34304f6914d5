"""Attacks on a likelihood model's NLL (Pope, Balaji & Feizi 2020) and linear-flow oracles.

`nll_fn(x) -> [B]` is any per-example negative log-likelihood (a flow's, see
jaxgen/trainers/flow.py). The PGD attacks maximise it; for a linear flow x = A z + b,
z ~ N(0, I) (so x ~ N(b, Sigma = A A^T)) the L2 optima are known in closed form:
the universal attack eps v_min raises the mean NLL of data centred at b by
eps^2 / (2 lambda_min(Sigma)), and the sample-specific one is a trust-region solution.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxgen.attacks.pgd import pgd

Array = jax.Array


def nll_pgd(nll_fn, x: Array, eps, key: Array, *, norm: str = "linf", steps: int = 20,
            step_size=None, random_start: bool = True, restarts: int = 1,
            bounds=None) -> Array:
  """Per-example adversarial inputs maximising nll_fn within eps_i-balls (eps: float or [B])."""
  return pgd(nll_fn, x, eps, key, norm=norm, steps=steps, step_size=step_size,
             random_start=random_start, restarts=restarts, bounds=bounds)


def universal_perturbation(nll_fn, x: Array, eps: float, key: Array, *, norm: str = "l2",
                           steps: int = 50, step_size=None, random_start: bool = False,
                           bounds=None) -> Array:
  """One delta (shape x.shape[1:]) in the eps-ball maximising the mean NLL of x + delta.

  PGD on delta as a single 'example' whose loss is the batch mean; with `bounds` the
  perturbed inputs are clipped into the data range inside the loss.
  """
  def clip(v):
    return v if bounds is None else jnp.clip(v, bounds[0], bounds[1])

  def mean_nll(delta):  # delta: [1, ...] -> [1]
    return jnp.mean(nll_fn(clip(x + delta)))[None]

  delta = pgd(mean_nll, jnp.zeros((1,) + x.shape[1:], x.dtype), eps, key, norm=norm,
              steps=steps, step_size=step_size, random_start=random_start)
  return delta[0]


def gaussian_nll(x: Array, mean: Array, cov: Array) -> Array:
  """-log N(x; mean, cov) per example, x: [B, D]."""
  r = x - mean
  sol = jnp.linalg.solve(cov, r.T).T
  d = x.shape[-1]
  return 0.5 * (jnp.sum(r * sol, -1) + jnp.linalg.slogdet(cov)[1] + d * math.log(2 * math.pi))


def linear_flow_universal(cov: Array, eps: float) -> tuple[Array, Array]:
  """(delta = eps v_min, NLL increase eps^2 / (2 lambda_min)) for x ~ N(mu, cov), L2 ball.

  The mean increase over data with mean mu is delta^T cov^-1 delta / 2 (the linear term
  averages to zero), maximal along the eigenvector of cov's smallest eigenvalue.
  """
  lam, vec = jnp.linalg.eigh(cov)
  return eps * vec[:, 0], eps ** 2 / (2 * lam[0])


def linear_flow_sample_specific(x: Array, mean: Array, cov: Array, eps, *,
                                iterations: int = 200) -> Array:
  """The L2 attack maximising -log N(x + delta; mean, cov) over |delta| <= eps, per example.

  Trust-region solution delta* = (eta I - P)^-1 P (x - mu), P = cov^-1, with eta >
  lambda_max(P) set by bisection (in log space) so that |delta*| = eps (Pope et al. 2020).
  x: [B, D]; eps: float or [B]. Assumes x - mu is not orthogonal to P's top eigenvector
  (the 'hard case' of the trust-region problem, of probability zero for data).
  """
  eps = jnp.broadcast_to(jnp.asarray(eps, x.dtype), x.shape[:1])
  lam, vec = jnp.linalg.eigh(cov)
  prec = 1.0 / lam                          # eigenvalues of P, same eigenvectors
  top = jnp.max(prec)
  coeff = (x - mean) @ vec * prec           # P r in the eigenbasis: [B, D]

  def norm_at(eta):                         # |delta(eta)| for eta: [B]
    return jnp.linalg.norm(coeff / (eta[:, None] - prec), axis=-1)

  # |delta(eta)| falls from infinity (eta -> top+) to 0; bisect log(eta - top).
  lo = jnp.full(x.shape[:1], jnp.log(top) - 40.0)
  hi = jnp.full(x.shape[:1], jnp.log(top) + 40.0)

  def body(_, bounds):
    lo, hi = bounds
    mid = 0.5 * (lo + hi)
    too_long = norm_at(top + jnp.exp(mid)) > eps
    return jnp.where(too_long, mid, lo), jnp.where(too_long, hi, mid)

  lo, hi = jax.lax.fori_loop(0, iterations, body, (lo, hi))
  eta = top + jnp.exp(0.5 * (lo + hi))
  return (coeff / (eta[:, None] - prec)) @ vec.T
