"""Adversarial losses as pure functions of discriminator logits.

Each loss is a pair (d_loss(real_logits, fake_logits), g_loss(fake_logits)), both
scalars to minimise, plus the name of the penalty it implies by default (WGAN-GP).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxgen.registry import Registry

Array = jax.Array


class GANLoss(NamedTuple):
  d_loss: Callable[[Array, Array], Array]
  g_loss: Callable[[Array], Array]
  default_penalty: str = ""        # penalty implied by the loss name ('' = none)
  default_penalty_weight: float = 0.0


LOSSES: Registry[GANLoss] = Registry("loss.name")


def _ns_d(real: Array, fake: Array) -> Array:
  # -log sigmoid(r) - log(1 - sigmoid(f)), written with softplus for stability.
  return jnp.mean(jax.nn.softplus(-real)) + jnp.mean(jax.nn.softplus(fake))


LOSSES.register("ns")(GANLoss(
    d_loss=_ns_d,
    # Non-saturating generator loss of Goodfellow et al. (2014): -log sigmoid(f).
    g_loss=lambda fake: jnp.mean(jax.nn.softplus(-fake)),
))

LOSSES.register("minimax")(GANLoss(
    d_loss=_ns_d,
    # The original saturating objective: G minimises log(1 - sigmoid(f)).
    g_loss=lambda fake: -jnp.mean(jax.nn.softplus(fake)),
))

LOSSES.register("hinge")(GANLoss(
    d_loss=lambda real, fake: (jnp.mean(jax.nn.relu(1.0 - real))
                               + jnp.mean(jax.nn.relu(1.0 + fake))),
    g_loss=lambda fake: -jnp.mean(fake),
))

_wgan = GANLoss(
    d_loss=lambda real, fake: jnp.mean(fake) - jnp.mean(real),
    g_loss=lambda fake: -jnp.mean(fake),
)
LOSSES.register("wgan")(_wgan)
LOSSES.register("wgan_gp")(_wgan._replace(default_penalty="gp",
                                          default_penalty_weight=10.0))

LOSSES.register("lsgan")(GANLoss(
    # Mao et al. (2017), a-b-c = 0-1-1 coding: 1/2 E(D(x)-1)^2 + 1/2 E D(G(z))^2.
    d_loss=lambda real, fake: 0.5 * (jnp.mean((real - 1.0) ** 2)
                                     + jnp.mean(fake ** 2)),
    g_loss=lambda fake: 0.5 * jnp.mean((fake - 1.0) ** 2),
))


def get_loss(name: str) -> GANLoss:
  """The registered loss called `name` (one-line error listing choices otherwise)."""
  return LOSSES.get(name)
