"""FGSM and PGD (Madry et al. 2018) with one epsilon per example, as pure functions.

`loss_fn(x) -> [B]` is any differentiable per-example loss (a classifier's cross-entropy,
a flow's NLL); the attacks maximise it (minimise it when `targeted`) inside the L-inf or
L2 ball of radius eps_i around each x_i, and inside `bounds` (the data range) if given.
The gradient is `jax.grad` of the summed loss, so example i only moves along its own
gradient. Every function is jittable with `norm`, `steps`, `restarts`, `targeted` static.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array
NORMS = ("linf", "l2")
_TINY = 1e-12  # guards divisions by a zero gradient or perturbation norm


def _check_norm(norm: str) -> None:
  if norm not in NORMS:
    raise ValueError(f"unknown attack norm {norm!r}; choose one of: {', '.join(NORMS)}")


def per_example(value, x: Array) -> Array:
  """A scalar or [B] value as a [B] array in x's dtype."""
  return jnp.broadcast_to(jnp.asarray(value, x.dtype), (x.shape[0],))


def _expand(v: Array, x: Array) -> Array:
  """[B] -> [B, 1, ..., 1], broadcastable against x."""
  return v.reshape((-1,) + (1,) * (x.ndim - 1))


def _l2_norm(v: Array) -> Array:
  return jnp.sqrt(jnp.sum(jnp.square(v.reshape(v.shape[0], -1)), axis=-1))


def project(delta: Array, eps: Array, norm: str) -> Array:
  """Projects each delta_i onto the `norm` ball of radius eps_i (eps: [B])."""
  if norm == "linf":
    e = _expand(eps, delta)
    return jnp.clip(delta, -e, e)
  scale = jnp.minimum(1.0, eps / jnp.maximum(_l2_norm(delta), _TINY))
  return delta * _expand(scale, delta)


def _ascent_direction(grad: Array, norm: str) -> Array:
  """The steepest-ascent unit step for the norm: sign(g) (L-inf) or g / |g|_2 (L2)."""
  if norm == "linf":
    return jnp.sign(grad)
  return grad / _expand(jnp.maximum(_l2_norm(grad), _TINY), grad)


def _clip_to_bounds(x_adv: Array, bounds) -> Array:
  return x_adv if bounds is None else jnp.clip(x_adv, bounds[0], bounds[1])


def _random_start(key: Array, x: Array, eps: Array, norm: str) -> Array:
  """A uniform draw from each example's eps-ball (L-inf box or L2 ball)."""
  if norm == "linf":
    return jax.random.uniform(key, x.shape, x.dtype, -1.0, 1.0) * _expand(eps, x)
  dir_key, radius_key = jax.random.split(key)
  direction = jax.random.normal(dir_key, x.shape, x.dtype)
  direction = direction / _expand(jnp.maximum(_l2_norm(direction), _TINY), x)
  dims = x[0].size
  radius = eps * jax.random.uniform(radius_key, (x.shape[0],), x.dtype) ** (1.0 / dims)
  return direction * _expand(radius, x)


def _gradient(loss_fn, x: Array, targeted: bool) -> Array:
  grad = jax.grad(lambda v: jnp.sum(loss_fn(v)))(x)
  return -grad if targeted else grad


def fgsm(loss_fn, x: Array, eps, *, norm: str = "linf", bounds=None,
         targeted: bool = False) -> Array:
  """Fast gradient (sign) method (Goodfellow et al. 2015): one full step of size eps_i."""
  _check_norm(norm)
  eps = per_example(eps, x)
  step = _ascent_direction(_gradient(loss_fn, x, targeted), norm) * _expand(eps, x)
  return _clip_to_bounds(x + project(step, eps, norm), bounds)


def _pgd_single(loss_fn, x: Array, eps: Array, key: Array, norm: str, steps: int,
                step_size: Array, random_start: bool, targeted: bool, bounds) -> Array:
  """One PGD run from one random start; returns x_adv."""
  delta = _random_start(key, x, eps, norm) if random_start else jnp.zeros_like(x)
  x_adv = _clip_to_bounds(x + delta, bounds)

  def body(_, x_adv):
    direction = _ascent_direction(_gradient(loss_fn, x_adv, targeted), norm)
    delta = project(x_adv - x + _expand(step_size, x) * direction, eps, norm)
    # Clipping into the box moves each coordinate towards x (which lies in the box),
    # so the norm constraint still holds afterwards.
    return _clip_to_bounds(x + delta, bounds)

  return jax.lax.fori_loop(0, steps, body, x_adv)


def pgd(loss_fn, x: Array, eps, key: Array, *, norm: str = "linf", steps: int = 10,
        step_size=None, random_start: bool = True, restarts: int = 1,
        targeted: bool = False, bounds=None) -> Array:
  """Projected gradient descent on `loss_fn` within per-example eps-balls; returns x_adv.

  eps: a float or [B]; step_size: a float or [B], default 2.5 * eps_i / steps.
  `restarts` random starts run batched with vmap; each example keeps the restart with
  the highest loss (lowest when targeted). eps_i = 0 leaves x_i unchanged.
  """
  _check_norm(norm)
  if steps < 0 or restarts < 1:
    raise ValueError(f"pgd needs steps >= 0 and restarts >= 1, got {steps}, {restarts}")
  eps = per_example(eps, x)
  step_size = 2.5 * eps / max(steps, 1) if step_size is None else per_example(step_size, x)

  def run(k):
    return _pgd_single(loss_fn, x, eps, k, norm, steps, step_size, random_start,
                       targeted, bounds)

  if restarts == 1:
    return run(key)
  candidates = jax.vmap(run)(jax.random.split(key, restarts))        # [R, B, ...]
  losses = jax.vmap(loss_fn)(candidates)                             # [R, B]
  best = jnp.argmin(losses, axis=0) if targeted else jnp.argmax(losses, axis=0)
  return candidates[best, jnp.arange(x.shape[0])]
