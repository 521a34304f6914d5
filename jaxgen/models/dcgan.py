"""DCGAN generator and discriminator (Radford et al. 2016) for square images 8x8 to 64x64.

G: z -> 4x4 (transposed conv on 1x1) -> [ConvT 4x4 s2, norm, ReLU]* -> ConvT 4x4 s2 -> tanh.
D: [Conv 4x4 s2, norm (not on the first), LeakyReLU .2]* down to 4x4 -> Conv 4x4 valid -> logit.
Channels double at each halving of resolution, `width` at the largest feature map;
`model.g_channels` / `model.d_channels` set each hidden conv's channels explicitly (a
channel-pruned ticket, jaxgen/pruning/channels.py).
`model.cond` (jaxgen/models/conditioning.py): G appends one-hot(y) to z; D appends
one-hot maps ('concat') or replaces the final conv by a head on the flattened 4x4 map.
'spectral' norms wrap every conv in spectral normalization.
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import nn as jnn
from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.models import conditioning
from jaxgen.models.layers import (check_norm, dcgan_kernel_init, feature_norm,
                                  normalization)
from jaxgen.models.registry import MODELS, GANModels

# PyTorch's ConvTranspose2d(k=4, s=2, p=1) doubles the resolution; in lax terms the
# dilated input is padded by k - 1 - p = 2 on each side.
_UP_PADDING = ((2, 2), (2, 2))
_DOWN_PADDING = ((1, 1), (1, 1))
OUTPUT_ACTIVATIONS = ("tanh", "none")


def num_halvings(spec: DataSpec, model: str) -> int:
  """log2(resolution / 4), checking the image is square with a power-of-two side in [8, 64]."""
  if spec.kind != "image":
    raise ConfigError(f"model.name {model!r} needs an image dataset; "
                      f"dataset {spec.name!r} has {spec.kind} examples")
  height, width = spec.shape[:2]
  n = int(round(math.log2(max(height, 1) / 4))) if height >= 4 else 0
  if height != width or n < 1 or n > 4 or height != 4 * 2 ** n:
    raise ConfigError(f"model.name {model!r} needs a square power-of-two image of side 8 to "
                      f"64 (set dataset.image_size); got {height}x{width}")
  return n


def default_channels(width: int, n: int, net: str) -> tuple[int, ...]:
  """Hidden conv channels from `width`: G (net 'g') halves down to it, D doubles up from it."""
  up = tuple(width * 2 ** i for i in range(n))
  return up[::-1] if net == "g" else up


def _check_channels(channels: tuple[int, ...], n: int, field: str) -> tuple[int, ...]:
  if len(channels) != n or any(int(c) < 1 for c in channels):
    raise ConfigError(f"{field} must list {n} positive channel counts (one per hidden conv "
                      f"for this image size), or be empty to derive them from model.width; "
                      f"got {list(channels)}")
  return tuple(int(c) for c in channels)


def channel_counts(config: ml_collections.ConfigDict,
                   spec: DataSpec) -> tuple[tuple[int, ...], tuple[int, ...]]:
  """(G's, D's) hidden conv channels for `config.model` on `spec`, checked."""
  n = num_halvings(spec, "dcgan")
  counts = []
  for net in ("g", "d"):
    given = tuple(config[f"{net}_channels"])
    counts.append(_check_channels(given, n, f"model.{net}_channels") if given
                  else default_channels(config.width, n, net))
  return counts[0], counts[1]


class DCGANGenerator(nn.Module):
  """Maps latents [B, latent_dim] to images [B, H, W, C] in [-1, 1] (or logits if 'none')."""
  output_shape: tuple[int, int, int]
  width: int = 64
  norm: str = "batch"
  conv_impl: str = "auto"
  output_activation: str = "tanh"  # 'none': logits, e.g. for a Bernoulli VAE decoder
  cond: str = ""
  num_classes: int = 0
  channels: tuple[int, ...] = ()  # hidden ConvTranspose outputs; () = from width
  dtype: Any = None  # compute dtype (train.compute_dtype); None = the params' float32

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    n = int(math.log2(self.output_shape[0] // 4))
    channels = (_check_channels(self.channels, n, "DCGANGenerator.channels")
                if self.channels else default_channels(self.width, n, "g"))
    use_bias = self.norm == "none"
    norm = feature_norm(self.norm, "g")
    sn = lambda layer: jnn.spectral_norm(layer, train, self.norm == "spectral")
    if self.cond:
      z = conditioning.concat_one_hot(z, y, self.num_classes)
    x = z.reshape(z.shape[0], 1, 1, z.shape[-1])
    x = sn(jnn.ConvTranspose(channels[0], (4, 4), padding="VALID", use_bias=use_bias,
                             kernel_init=dcgan_kernel_init, impl=self.conv_impl,
                             dtype=self.dtype))(x)
    x = nn.relu(normalization(norm, train, self.dtype)(x))
    for features in channels[1:]:
      x = sn(jnn.ConvTranspose(features, (4, 4), strides=(2, 2), padding=_UP_PADDING,
                               use_bias=use_bias, kernel_init=dcgan_kernel_init,
                               impl=self.conv_impl, dtype=self.dtype))(x)
      x = nn.relu(normalization(norm, train, self.dtype)(x))
    x = sn(jnn.ConvTranspose(self.output_shape[-1], (4, 4), strides=(2, 2),
                             padding=_UP_PADDING, kernel_init=dcgan_kernel_init,
                             impl=self.conv_impl, dtype=self.dtype))(x)
    x = x.astype(jnp.float32)  # images (and the losses on them) in float32
    return jnp.tanh(x) if self.output_activation == "tanh" else x


def down_stack(x: jax.Array, *, width: int, norm: str, conv_impl: str, train: bool,
               channels: tuple[int, ...] = (), dtype: Any = None) -> jax.Array:
  """D's body: [Conv 4x4 s2, norm (not on the first), LeakyReLU .2]* down to 4x4.

  Called inside a compact module's __call__, so its layers are that module's
  (Conv_i, BatchNorm_i); the DCGAN encoder reuses it for the same parameter tree.
  `channels` are the convs' outputs (() = width, 2 * width, ...).
  """
  n = int(math.log2(x.shape[1] // 4))
  channels = (_check_channels(channels, n, "down_stack channels") if channels
              else default_channels(width, n, "d"))
  act_norm = feature_norm(norm, "d")
  use_bias = act_norm == "none"
  for i, features in enumerate(channels):
    conv = jnn.Conv(features, (4, 4), strides=(2, 2), padding=_DOWN_PADDING,
                    use_bias=use_bias or i == 0, kernel_init=dcgan_kernel_init,
                    impl=conv_impl, dtype=dtype)
    x = jnn.spectral_norm(conv, train, norm == "spectral")(x)
    if i > 0:  # DCGAN: no normalisation on the discriminator's input layer.
      x = normalization(act_norm, train, dtype)(x)
    x = nn.leaky_relu(x, 0.2)
  return x


class DCGANDiscriminator(nn.Module):
  """Maps images [B, H, W, C] to real/fake logits [B] (plus class logits for acgan/adcgan)."""
  width: int = 64
  norm: str = "batch"
  conv_impl: str = "auto"
  cond: str = ""
  num_classes: int = 0
  channels: tuple[int, ...] = ()  # the body's conv outputs; () = from width
  dtype: Any = None  # compute dtype (train.compute_dtype); None = the params' float32

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    if self.cond == "concat":
      x = conditioning.concat_one_hot(x, y, self.num_classes)
    x = down_stack(x, width=self.width, norm=self.norm, conv_impl=self.conv_impl,
                   train=train, channels=self.channels, dtype=self.dtype)
    sn = lambda layer: jnn.spectral_norm(layer, train, self.norm == "spectral")
    if self.cond in conditioning.HEAD_CONDS:
      # The final 4x4 'valid' conv is a dense layer on the flattened 4x4 map.
      return conditioning.DiscriminatorHead(
          self.cond, self.num_classes, self.norm == "spectral", dcgan_kernel_init)(
              x.reshape(x.shape[0], -1).astype(jnp.float32), y, train)
    x = sn(jnn.Conv(1, (4, 4), padding="VALID", kernel_init=dcgan_kernel_init,
                    impl=self.conv_impl, dtype=self.dtype))(x)
    return x.reshape(x.shape[0]).astype(jnp.float32)  # logits (and losses) in float32


def output_activation(config: ml_collections.ConfigDict) -> str:
  """`model.output_activation` of an image generator: 'auto' is tanh."""
  activation = config.output_activation
  if activation not in ("auto",) + OUTPUT_ACTIVATIONS:
    raise ConfigError(f"unknown model.output_activation {activation!r}; "
                      f"choose one of: {', '.join(OUTPUT_ACTIVATIONS)}")
  return "tanh" if activation == "auto" else activation


@MODELS.register("dcgan")
def build(config: ml_collections.ConfigDict, spec: DataSpec) -> GANModels:
  g_channels, d_channels = channel_counts(config, spec)
  cond = conditioning.check_cond(config.cond, spec)
  for net in ("g_norm", "d_norm"):
    check_norm(config[net], f"model.{net}")
  jnn.check_impl(config.conv_impl)
  activation = output_activation(config)
  return GANModels(
      generator=DCGANGenerator(output_shape=tuple(spec.shape), width=config.width,
                               norm=config.g_norm, conv_impl=config.conv_impl,
                               output_activation=activation,
                               cond=cond, num_classes=spec.num_classes,
                               channels=g_channels),
      discriminator=DCGANDiscriminator(width=config.width, channels=d_channels,
                                       norm=config.d_norm, conv_impl=config.conv_impl,
                                       cond=cond, num_classes=spec.num_classes),
      latent_dim=config.latent_dim,
  )
