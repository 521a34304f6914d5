"""The SAGAN self-attention block (Zhang et al. 2019), optionally spectrally normalized."""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen import nn as jnn


class SelfAttention(nn.Module):
  """y = x + gamma * v(sum_i beta_ji h(x_i)), beta_j = softmax_i(f(x_i)^T g(x_j)).

  f, g, h, v are 1x1 convs (SAGAN sec. 4); f and g have C / key_divisor channels,
  h has C / value_divisor (8 in the paper, 2 in BigGAN). gamma starts at 0, so the
  block starts as the identity. `pool` max-pools keys and values 2x2 (BigGAN's code).
  `dtype` is the convs' compute dtype; the softmax is taken in float32.
  """
  key_divisor: int = 8
  value_divisor: int = 8
  pool: bool = False
  spectral: bool = False
  conv_impl: str = "auto"
  kernel_init: Any = nn.initializers.xavier_uniform()
  dtype: Any = None  # compute dtype; None = the params' float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
    batch, height, width, channels = x.shape
    keys_ch = max(channels // self.key_divisor, 1)
    values_ch = max(channels // self.value_divisor, 1)

    def conv(features: int, name: str):
      layer = jnn.Conv(features, (1, 1), use_bias=False, kernel_init=self.kernel_init,
                       impl=self.conv_impl, dtype=self.dtype, name=name)
      return jnn.spectral_norm(layer, train, self.spectral)

    queries = conv(keys_ch, "g")(x).reshape(batch, -1, keys_ch)
    keys, values = conv(keys_ch, "f")(x), conv(values_ch, "h")(x)
    if self.pool:
      keys = nn.max_pool(keys, (2, 2), strides=(2, 2))
      values = nn.max_pool(values, (2, 2), strides=(2, 2))
    keys = keys.reshape(batch, -1, keys_ch)
    values = values.reshape(batch, -1, values_ch)
    logits = jnp.einsum("bjc,bic->bji", queries, keys)
    beta = jax.nn.softmax(logits.astype(jnp.float32), axis=-1).astype(logits.dtype)  # (1)
    o = jnp.einsum("bji,bic->bjc", beta, values).reshape(batch, height, width, values_ch)
    o = conv(channels, "v")(o)                                                     # eq. (2)
    gamma = self.param("gamma", nn.initializers.zeros, ())
    return x + gamma.astype(o.dtype) * o                                           # eq. (3)
