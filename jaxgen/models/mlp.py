"""MLP generator and discriminator for low-dimensional data (2D mixtures of Gaussians).

`model.cond`: G appends one-hot(y) to z, D to its input ('concat') or puts a
conditioning head on its last hidden layer; `model.{g,d}_norm='spectral'` wraps every
dense layer of that network in spectral normalization (other norms are not used).
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import ml_collections

from jaxgen import nn as jnn
from jaxgen.data import DataSpec
from jaxgen.models import conditioning
from jaxgen.models.registry import MODELS, GANModels


class MLPGenerator(nn.Module):
  """z [B, latent] -> x [B, *output_shape] through `depth` ReLU layers of `hidden` units."""
  output_shape: tuple[int, ...]
  hidden: int = 128
  depth: int = 3
  cond: str = ""
  num_classes: int = 0
  spectral: bool = False

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    sn = lambda layer: jnn.spectral_norm(layer, train, self.spectral)
    x = conditioning.concat_one_hot(z, y, self.num_classes) if self.cond else z
    for _ in range(self.depth):
      x = nn.relu(sn(nn.Dense(self.hidden))(x))
    x = sn(nn.Dense(math.prod(self.output_shape)))(x)
    return x.reshape((z.shape[0],) + tuple(self.output_shape))


class MLPDiscriminator(nn.Module):
  """x [B, ...] -> logits [B] through `depth` LeakyReLU(0.2) layers of `hidden` units
  (plus class logits for acgan/adcgan)."""
  hidden: int = 128
  depth: int = 3
  cond: str = ""
  num_classes: int = 0
  spectral: bool = False

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    sn = lambda layer: jnn.spectral_norm(layer, train, self.spectral)
    x = x.reshape(x.shape[0], -1)
    if self.cond == "concat":
      x = conditioning.concat_one_hot(x, y, self.num_classes)
    for _ in range(self.depth):
      x = nn.leaky_relu(sn(nn.Dense(self.hidden))(x), 0.2)
    if self.cond in conditioning.HEAD_CONDS:
      return conditioning.DiscriminatorHead(self.cond, self.num_classes, self.spectral,
                                            nn.initializers.lecun_normal())(x, y, train)
    return sn(nn.Dense(1))(x).reshape(x.shape[0])


@MODELS.register("mlp")
def build(config: ml_collections.ConfigDict, spec: DataSpec) -> GANModels:
  cond = dict(cond=conditioning.check_cond(config.get("cond", ""), spec),
              num_classes=spec.num_classes)
  return GANModels(
      generator=MLPGenerator(output_shape=tuple(spec.shape), hidden=config.width,
                             depth=config.get("depth", 3),
                             spectral=config.get("g_norm", "") == "spectral", **cond),
      discriminator=MLPDiscriminator(hidden=config.get("d_width", config.width),
                                     depth=config.get("d_depth", config.get("depth", 3)),
                                     spectral=config.get("d_norm", "") == "spectral",
                                     **cond),
      latent_dim=config.latent_dim,
  )
