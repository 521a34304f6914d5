"""Scalar generative losses of the params, for SNIP and GraSP scores of a GAN, AE or VAE.

AE/VAE: the trainer's own loss on one real batch (reconstruction NLL + beta KL, the VAE's
negative ELBO when beta = 1), one objective for the encoder and the decoder; BatchNorm
in training mode.

GAN: the generator's loss through the current (fixed) discriminator for G, and the
discriminator's loss on a real batch and on G's samples for D; pruning both nets scores
them jointly with L = L_G(theta_G; stop_grad theta_D) + L_D(theta_D; stop_grad G(z)),
so each net's scores come from its own loss (the objective the trainer descends) and
the cross terms vanish. BatchNorm runs in training mode, as in a train step; gradient
penalties are left out.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

from jaxgen import losses
from jaxgen.errors import ConfigError

Params = dict[str, Any]


def _forward(net: Any, params: Any, x: jax.Array, y: jax.Array) -> jax.Array:
  variables = {"params": params}
  if getattr(net, "batch_stats", None):
    variables["batch_stats"] = net.batch_stats
  out, _ = net.apply_fn(variables, x, y, train=True, mutable=["batch_stats"])
  # AC-GAN-style discriminators return (logits, class logits); the score uses the logits.
  return out[0] if isinstance(out, (tuple, list)) else out


def gan_objective(loss_name: str, state: Any, x_real: jax.Array, y: jax.Array,
                  z: jax.Array, nets: tuple[str, ...] = ("g", "d"),
                  ) -> tuple[Callable[[Params], jax.Array], Params]:
  """(loss_fn, params): loss_fn maps {net: params} for `nets` (a subset of g, d) to a scalar.

  `x_real`, `y` are a real batch and its labels (also the fake labels); `z` the latents.
  Nets outside `nets` keep the weights in `state`.
  """
  for name in nets:
    if name not in ("g", "d"):
      raise ConfigError(f"unknown pruning.scope net {name!r} for a GAN; choose one of: d, g")
  loss = losses.get_loss(loss_name)

  def loss_fn(params: Params) -> jax.Array:
    g_params = params.get("g", state.g.params)
    d_params = params.get("d", state.d.params)
    total = jnp.zeros(())
    if "g" in nets:
      fake = _forward(state.g, g_params, z, y)
      logits = _forward(state.d, jax.lax.stop_gradient(d_params), fake, y)
      total = total + loss.g_loss(logits)
    if "d" in nets:
      fake = jax.lax.stop_gradient(_forward(state.g, g_params, z, y))
      real_logits = _forward(state.d, d_params, x_real, y)
      total = total + loss.d_loss(real_logits, _forward(state.d, d_params, fake, y))
    return total

  return loss_fn, {name: getattr(state, name).params for name in nets}


def autoencoder_objective(loss: Callable[..., tuple[jax.Array, Any]], state: Any,
                          x: jax.Array, y: jax.Array, key: jax.Array,
                          nets: tuple[str, ...] = ("enc", "g"),
                          ) -> tuple[Callable[[Params], jax.Array], Params]:
  """(loss_fn, params): loss_fn maps {net: params} for `nets` (a subset of enc, g) to a scalar.

  `loss(state, (enc_params, g_params), x, y, key) -> (value, aux)` is the trainer's loss
  (`Autoencoder.loss`); `key` fixes the VAE's reparameterisation noise. Nets outside
  `nets` keep the weights in `state`.
  """
  for name in nets:
    if name not in ("enc", "g"):
      raise ConfigError(f"unknown pruning.scope net {name!r} for an AE/VAE; "
                        "choose one of: enc, g")

  def loss_fn(params: Params) -> jax.Array:
    return loss(state, (params.get("enc", state.enc.params), params.get("g", state.g.params)),
                x, y, key)[0]

  return loss_fn, {name: getattr(state, name).params for name in nets}
