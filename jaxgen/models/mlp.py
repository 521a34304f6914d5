"""MLP generator and discriminator for low-dimensional data (2D mixtures of Gaussians).

`model.cond`: G appends one-hot(y) to z, D to its input ('concat') or puts a
conditioning head on its last hidden layer; `model.{g,d}_norm='spectral'` wraps every
dense layer of that network in spectral normalization (other norms are not used).
`model.hidden_sizes` (e.g. (128, 64, 12)) gives each hidden layer its own width, in the
order of D (and of the MLP encoder) from the input; G mirrors it (12, 64, 128). Unset,
every net has `depth` layers of `width` units. Images are flattened, so the linear
autoencoders of Kalibhat et al. (784-128-64-12-3, mirrored) are this model.
"""

from __future__ import annotations

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import nn as jnn
from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.models import conditioning
from jaxgen.models.registry import MODELS, GANModels


OUTPUT_ACTIVATIONS = ("none", "tanh")


def layer_sizes(hidden: int, depth: int, sizes: Sequence[int] = ()) -> tuple[int, ...]:
  """The hidden widths from the input side: `sizes` if given, else `depth` x `hidden`."""
  return tuple(sizes) if sizes else (hidden,) * depth


class MLPGenerator(nn.Module):
  """z [B, latent] -> x [B, *output_shape] through `depth` ReLU layers of `hidden` units
  (or `sizes`, listed from z's side), then a linear or tanh output layer."""
  output_shape: tuple[int, ...]
  hidden: int = 128
  depth: int = 3
  cond: str = ""
  num_classes: int = 0
  spectral: bool = False
  sizes: tuple[int, ...] = ()
  output_activation: str = "none"

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    sn = lambda layer: jnn.spectral_norm(layer, train, self.spectral)
    x = conditioning.concat_one_hot(z, y, self.num_classes) if self.cond else z
    for size in layer_sizes(self.hidden, self.depth, self.sizes):
      x = nn.relu(sn(nn.Dense(size))(x))
    x = sn(nn.Dense(math.prod(self.output_shape)))(x)
    x = jnp.tanh(x) if self.output_activation == "tanh" else x
    return x.reshape((z.shape[0],) + tuple(self.output_shape))


class MLPDiscriminator(nn.Module):
  """x [B, ...] -> logits [B] through `depth` LeakyReLU(0.2) layers of `hidden` units
  (or `sizes`; plus class logits for acgan/adcgan)."""
  hidden: int = 128
  depth: int = 3
  cond: str = ""
  num_classes: int = 0
  spectral: bool = False
  sizes: tuple[int, ...] = ()

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    sn = lambda layer: jnn.spectral_norm(layer, train, self.spectral)
    x = x.reshape(x.shape[0], -1)
    if self.cond == "concat":
      x = conditioning.concat_one_hot(x, y, self.num_classes)
    for size in layer_sizes(self.hidden, self.depth, self.sizes):
      x = nn.leaky_relu(sn(nn.Dense(size))(x), 0.2)
    if self.cond in conditioning.HEAD_CONDS:
      return conditioning.DiscriminatorHead(self.cond, self.num_classes, self.spectral,
                                            nn.initializers.lecun_normal())(x, y, train)
    return sn(nn.Dense(1))(x).reshape(x.shape[0])


def hidden_sizes(config: ml_collections.ConfigDict) -> tuple[int, ...]:
  """`model.hidden_sizes` as a tuple of positive ints (empty = width x depth)."""
  sizes = tuple(config.hidden_sizes)
  if any(not isinstance(n, int) or n < 1 for n in sizes):
    raise ConfigError(f"model.hidden_sizes must be positive ints, got {sizes}")
  return sizes


@MODELS.register("mlp")
def build(config: ml_collections.ConfigDict, spec: DataSpec) -> GANModels:
  cond = dict(cond=conditioning.check_cond(config.cond, spec),
              num_classes=spec.num_classes)
  sizes = hidden_sizes(config)
  activation = "none" if config.output_activation == "auto" else config.output_activation
  if activation not in OUTPUT_ACTIVATIONS:
    raise ConfigError(f"unknown model.output_activation {activation!r} for model 'mlp'; "
                      f"choose one of: {', '.join(OUTPUT_ACTIVATIONS)}")
  return GANModels(
      generator=MLPGenerator(output_shape=tuple(spec.shape), hidden=config.width,
                             depth=config.depth, spectral=config.g_norm == "spectral",
                             sizes=sizes[::-1], output_activation=activation, **cond),
      discriminator=MLPDiscriminator(hidden=config.d_width or config.width,
                                     depth=config.d_depth or config.depth,
                                     spectral=config.d_norm == "spectral",
                                     sizes=sizes, **cond),
      latent_dim=config.latent_dim,
  )
