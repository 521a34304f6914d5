"""Encoders for autoencoders and VAEs, keyed by `config.model.name` like the GAN models.

An encoder `E(x, y=None, train=True) -> [B, out_dim]` mirrors the discriminator of the
same family, so an AE/VAE and a GAN share one backbone; the decoder is the generator.
"""

from __future__ import annotations

import math
from typing import Callable

import flax.linen as nn
import jax
import ml_collections

from jaxgen import nn as jnn
from jaxgen.data import DataSpec
from jaxgen.models.dcgan import num_halvings
from jaxgen.models.layers import check_norm, dcgan_kernel_init, feature_norm, normalization
from jaxgen.registry import Registry

EncoderBuilder = Callable[[ml_collections.ConfigDict, DataSpec, int], nn.Module]
ENCODERS: Registry[EncoderBuilder] = Registry("model.name")

_DOWN_PADDING = ((1, 1), (1, 1))  # PyTorch's Conv2d(k=4, s=2, p=1) halves the resolution


def build_encoder(model_config: ml_collections.ConfigDict, spec: DataSpec,
                  out_dim: int) -> nn.Module:
  """The encoder of the family `model_config.name`, mapping `spec` examples to out_dim."""
  name = model_config.name
  if name not in ENCODERS:
    raise ValueError(f"model.name {name!r} has no encoder; choose one of: "
                     f"{', '.join(ENCODERS.names())}")
  return ENCODERS.get(name)(model_config, spec, out_dim)


class DCGANEncoder(nn.Module):
  """The DCGAN discriminator's conv stack down to 4x4, then a Dense layer to out_dim."""
  out_dim: int
  width: int = 64
  norm: str = "batch"
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    n = int(math.log2(x.shape[1] // 4))
    channels = self.width
    norm = feature_norm(self.norm, "d")
    use_bias = norm == "none"
    sn = lambda layer: jnn.spectral_norm(layer, train, self.norm == "spectral")
    for i in range(n):
      x = sn(jnn.Conv(channels, (4, 4), strides=(2, 2), padding=_DOWN_PADDING,
                      use_bias=use_bias or i == 0, kernel_init=dcgan_kernel_init,
                      impl=self.conv_impl))(x)
      if i > 0:  # as in the DCGAN discriminator: no normalisation on the input layer
        x = normalization(norm, train)(x)
      x = nn.leaky_relu(x, 0.2)
      channels *= 2
    return nn.Dense(self.out_dim)(x.reshape(x.shape[0], -1))


class MLPEncoder(nn.Module):
  """x [B, ...] -> [B, out_dim] through `depth` ReLU layers of `hidden` units."""
  out_dim: int
  hidden: int = 128
  depth: int = 3

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    x = x.reshape(x.shape[0], -1)
    for _ in range(self.depth):
      x = nn.relu(nn.Dense(self.hidden)(x))
    return nn.Dense(self.out_dim)(x)


@ENCODERS.register("dcgan")
def _dcgan(config: ml_collections.ConfigDict, spec: DataSpec, out_dim: int) -> nn.Module:
  """Normalised like the discriminator (`model.d_norm`) unless `model.e_norm` is set."""
  num_halvings(spec, "dcgan")
  norm = config.get("e_norm", config.get("d_norm", "batch"))
  check_norm(norm, "model.e_norm")
  return DCGANEncoder(out_dim=out_dim, width=config.width, norm=norm,
                      conv_impl=jnn.check_impl(config.get("conv_impl", "auto")))


@ENCODERS.register("mlp")
def _mlp(config: ml_collections.ConfigDict, spec: DataSpec, out_dim: int) -> nn.Module:
  """As wide and deep as the MLP generator (`model.width`, `model.depth`)."""
  del spec  # any example shape is flattened
  return MLPEncoder(out_dim=out_dim, hidden=config.width, depth=config.get("depth", 3))
