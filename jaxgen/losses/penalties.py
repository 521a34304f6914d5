"""Discriminator regularisers that need the discriminator as a function.

A penalty is `penalty(d_fn, real, fake, key) -> scalar`, where `d_fn(x) -> logits`
closes over the current discriminator parameters, so it is differentiated with them.
`PENALTY_POINTS` says where each penalty evaluates D, so a conditional discriminator
is given each point's own labels (`penalty_labels`).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from jaxgen.registry import Registry

Array = jax.Array
DiscriminatorFn = Callable[[Array], Array]
Penalty = Callable[[DiscriminatorFn, Array, Array, Array], Array]

PENALTIES: Registry[Penalty] = Registry("loss.penalty")


def _input_grad_norms(d_fn: DiscriminatorFn, x: Array) -> Array:
  """Per-example L2 norm of d D(x) / d x."""
  grads = jax.grad(lambda x: jnp.sum(d_fn(x)))(x)
  flat = grads.reshape(grads.shape[0], -1)
  # The epsilon keeps the gradient of the norm finite where the gradient is zero.
  return jnp.sqrt(jnp.sum(flat ** 2, axis=-1) + 1e-12)


@PENALTIES.register("gp")
def gradient_penalty(d_fn: DiscriminatorFn, real: Array, fake: Array,
                     key: Array) -> Array:
  """WGAN-GP (Gulrajani et al. 2017, eq. 3): E (||grad D(x_hat)|| - 1)^2 on interpolates."""
  shape = (real.shape[0],) + (1,) * (real.ndim - 1)
  eps = jax.random.uniform(key, shape, dtype=real.dtype)
  x_hat = eps * real + (1.0 - eps) * fake
  return jnp.mean((_input_grad_norms(d_fn, x_hat) - 1.0) ** 2)


def _squared_grad_norm(d_fn: DiscriminatorFn, x: Array) -> Array:
  """E ||grad D(x)||^2 over the batch, the zero-centred penalties' statistic."""
  grads = jax.grad(lambda x: jnp.sum(d_fn(x)))(x)
  return jnp.mean(jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=-1))


@PENALTIES.register("r1")
def r1_penalty(d_fn: DiscriminatorFn, real: Array, fake: Array, key: Array) -> Array:
  """R1 (Mescheder et al. 2018, eq. 9): E ||grad D(x)||^2 on real data; weight = gamma/2."""
  return _squared_grad_norm(d_fn, real)


@PENALTIES.register("r2")
def r2_penalty(d_fn: DiscriminatorFn, real: Array, fake: Array, key: Array) -> Array:
  """R2 (Mescheder et al. 2018): the same on generated data; R1+R2 is R3GAN's baseline."""
  return _squared_grad_norm(d_fn, jax.lax.stop_gradient(fake))


@PENALTIES.register("gp0")
def zero_centred_gp(d_fn: DiscriminatorFn, real: Array, fake: Array, key: Array) -> Array:
  """Zero-centred GP on interpolates (Thanh-Tung et al. 2019): E ||grad D(x_hat)||^2."""
  shape = (real.shape[0],) + (1,) * (real.ndim - 1)
  eps = jax.random.uniform(key, shape, dtype=real.dtype)
  return _squared_grad_norm(d_fn, eps * real + (1.0 - eps) * fake)


@PENALTIES.register("dragan")
def dragan_penalty(d_fn: DiscriminatorFn, real: Array, fake: Array, key: Array) -> Array:
  """DRAGAN (Kodali et al. 2017): (||grad D|| - 1)^2 at real points perturbed by 0.5 std."""
  k_noise, k_mix = jax.random.split(key)
  std = jnp.std(real, axis=0, keepdims=True)
  noisy = real + 0.5 * std * jax.random.uniform(k_noise, real.shape, dtype=real.dtype)
  shape = (real.shape[0],) + (1,) * (real.ndim - 1)
  alpha = jax.random.uniform(k_mix, shape, dtype=real.dtype)
  x_hat = alpha * real + (1.0 - alpha) * noisy
  return jnp.mean((_input_grad_norms(d_fn, x_hat) - 1.0) ** 2)


# Where each penalty takes D's input gradient: at real data, at generated data, or at
# points between a real example and a generated one of the same class.
PENALTY_POINTS = {"gp": "interpolates", "gp0": "interpolates", "r1": "real",
                  "r2": "fake", "dragan": "real"}


def penalty_labels(name: str, y_real: Array, y_fake: Array) -> Array:
  """The class labels a conditional D sees at the points penalty `name` evaluates it.

  R1/DRAGAN: the real examples' own labels; R2: the generated examples'; interpolates
  (GP, GP0) lie between a real example and a fake of the same class (the fake partner
  must be generated with y_real), so they carry y_real.
  """
  return y_fake if PENALTY_POINTS[name] == "fake" else y_real


def get_penalty(name: str) -> Penalty:
  """The registered penalty called `name` (one-line error listing choices otherwise)."""
  return PENALTIES.get(name)
