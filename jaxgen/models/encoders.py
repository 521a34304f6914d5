"""Encoders for autoencoders and VAEs, keyed by `config.model.name` like the GAN models.

An encoder `E(x, y=None, train=True) -> [B, out_dim]` mirrors the discriminator of the
same family, so an AE/VAE and a GAN share one backbone; the decoder is the generator.
"""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax
import ml_collections

from jaxgen import config_base
from jaxgen import nn as jnn
from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.models import dcgan, mlp
from jaxgen.models.dcgan import num_halvings
from jaxgen.models.layers import check_norm
from jaxgen.registry import Registry

EncoderBuilder = Callable[[ml_collections.ConfigDict, DataSpec, int], nn.Module]
ENCODERS: Registry[EncoderBuilder] = Registry("model.name")

def build_encoder(model_config: ml_collections.ConfigDict, spec: DataSpec,
                  out_dim: int) -> nn.Module:
  """The encoder of the family `model_config.name`, mapping `spec` examples to out_dim."""
  name = model_config.name
  if name not in ENCODERS:
    raise ConfigError(f"model.name {name!r} has no encoder; choose one of: "
                      f"{', '.join(ENCODERS.names())}")
  return ENCODERS.get(name)(config_base.complete_block("model", model_config), spec, out_dim)


class DCGANEncoder(nn.Module):
  """The DCGAN discriminator's conv stack down to 4x4, then a Dense layer to out_dim."""
  out_dim: int
  width: int = 64
  norm: str = "batch"
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    x = dcgan.down_stack(x, width=self.width, norm=self.norm, conv_impl=self.conv_impl,
                         train=train)
    return nn.Dense(self.out_dim)(x.reshape(x.shape[0], -1))


class MLPEncoder(nn.Module):
  """x [B, ...] -> [B, out_dim] through `depth` ReLU layers of `hidden` units (or `sizes`)."""
  out_dim: int
  hidden: int = 128
  depth: int = 3
  sizes: tuple[int, ...] = ()

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    x = x.reshape(x.shape[0], -1)
    for size in mlp.layer_sizes(self.hidden, self.depth, self.sizes):
      x = nn.relu(nn.Dense(size)(x))
    return nn.Dense(self.out_dim)(x)


@ENCODERS.register("dcgan")
def _dcgan(config: ml_collections.ConfigDict, spec: DataSpec, out_dim: int) -> nn.Module:
  """Normalised like the discriminator (`model.d_norm`) unless `model.e_norm` is set."""
  num_halvings(spec, "dcgan")
  norm = config.e_norm or config.d_norm
  check_norm(norm, "model.e_norm")
  return DCGANEncoder(out_dim=out_dim, width=config.width, norm=norm,
                      conv_impl=jnn.check_impl(config.conv_impl))


@ENCODERS.register("mlp")
def _mlp(config: ml_collections.ConfigDict, spec: DataSpec, out_dim: int) -> nn.Module:
  """As wide and deep as the MLP generator (`model.width`, `model.depth`), or the widths
  `model.hidden_sizes` from the input (the generator runs them in reverse)."""
  del spec  # any example shape is flattened
  return MLPEncoder(out_dim=out_dim, hidden=config.width, depth=config.depth,
                    sizes=mlp.hidden_sizes(config))
