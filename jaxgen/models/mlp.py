"""MLP generator and discriminator for low-dimensional data (2D mixtures of Gaussians)."""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import ml_collections

from jaxgen.data import DataSpec
from jaxgen.models.registry import MODELS, GANModels


class MLPGenerator(nn.Module):
  """z [B, latent] -> x [B, *output_shape] through `depth` ReLU layers of `hidden` units."""
  output_shape: tuple[int, ...]
  hidden: int = 128
  depth: int = 3

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    x = z
    for _ in range(self.depth):
      x = nn.relu(nn.Dense(self.hidden)(x))
    x = nn.Dense(math.prod(self.output_shape))(x)
    return x.reshape((z.shape[0],) + tuple(self.output_shape))


class MLPDiscriminator(nn.Module):
  """x [B, ...] -> logits [B] through `depth` LeakyReLU(0.2) layers of `hidden` units."""
  hidden: int = 128
  depth: int = 3

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    x = x.reshape(x.shape[0], -1)
    for _ in range(self.depth):
      x = nn.leaky_relu(nn.Dense(self.hidden)(x), 0.2)
    return nn.Dense(1)(x).reshape(x.shape[0])


@MODELS.register("mlp")
def build(config: ml_collections.ConfigDict, spec: DataSpec) -> GANModels:
  return GANModels(
      generator=MLPGenerator(output_shape=tuple(spec.shape), hidden=config.width,
                             depth=config.get("depth", 3)),
      discriminator=MLPDiscriminator(hidden=config.get("d_width", config.width),
                                     depth=config.get("d_depth", config.get("depth", 3))),
      latent_dim=config.latent_dim,
  )
