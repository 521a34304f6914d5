"""StyleGAN2 (Karras et al. 2020) as in NVlabs/stylegan2-ada-pytorch: a mapping network,
a skip generator of modulated convolutions with noise inputs and a constant input, and
a residual discriminator with minibatch stddev; conditional variant: a class embedding
into the mapping network and a projection discriminator.

G(z, y) maps then synthesises with const noise; the trainer (jaxgen/trainers/
stylegan2.py) uses `map` / `synthesize` for style mixing, truncation, path length.
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
from jaxgen.models.stylegan2_layers import (EqualConv, EqualDense, ModulatedConv,
                                            minibatch_stddev, normalize_2nd_moment,
                                            upsample2d)


def truncate(w: jax.Array, w_avg: jax.Array, psi: float) -> jax.Array:
  """The truncation trick in W: w_avg + psi (w - w_avg); psi = 0 gives w_avg."""
  return w_avg + psi * (w - w_avg)


class MappingNetwork(nn.Module):
  """z [B, Z] (+ labels [B]) -> w [B, w_dim]: 2nd-moment normalisation, then an MLP
  with learning-rate multiplier `lr_mul` (0.01 in the paper)."""
  w_dim: int
  num_layers: int = 8
  lr_mul: float = 0.01
  num_classes: int = 0

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None) -> jax.Array:
    x = normalize_2nd_moment(z)
    if self.num_classes:
      embed = EqualDense(self.w_dim, name="embed")(jax.nn.one_hot(y, self.num_classes))
      x = jnp.concatenate([x, normalize_2nd_moment(embed)], axis=-1)
    for i in range(self.num_layers):
      x = EqualDense(self.w_dim, lr_mul=self.lr_mul, activation="lrelu", name=f"fc{i}")(x)
    return x


class SynthesisLayer(nn.Module):
  """Modulated conv, per-pixel noise times a learned strength (init 0), bias, lrelu."""
  features: int
  up: bool = False
  impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, w: jax.Array) -> jax.Array:
    x = ModulatedConv(self.features, 3, up=self.up, impl=self.impl, name="conv")(x, w)
    n, h, wd, _ = x.shape
    if self.has_rng("noise"):  # noise_mode='random' in training
      noise = jax.random.normal(self.make_rng("noise"), (n, h, wd, 1), x.dtype)
    else:  # noise_mode='const': a fixed map per layer (a buffer in the official code)
      noise = jax.random.normal(jax.random.PRNGKey(h), (1, h, wd, 1), x.dtype)
    strength = self.param("noise_strength", nn.initializers.zeros_init(), ())
    x = x + noise * strength + self.param("bias", nn.initializers.zeros_init(),
                                          (self.features,))
    return jax.nn.leaky_relu(x, 0.2) * math.sqrt(2.0)


class ToRGB(nn.Module):
  """1x1 modulated conv without demodulation, plus bias (ToRGBLayer)."""
  channels: int
  impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, w: jax.Array) -> jax.Array:
    y = ModulatedConv(self.channels, 1, demodulate=False, impl=self.impl, name="conv")(x, w)
    return y + self.param("bias", nn.initializers.zeros_init(), (self.channels,))


class SynthesisNetwork(nn.Module):
  """ws [B, num_ws, w_dim] -> images: a learned 4x4 constant, then one block per
  resolution (2 synthesis layers, the first upsampling), skip-summed ToRGB outputs.

  Block i reads ws[:, 2i - 1] and ws[:, 2i], its ToRGB ws[:, 2i + 1]; num_ws = 2 blocks.
  """
  channels: Sequence[int]  # per block, 4x4 first
  out_channels: int
  impl: str = "auto"

  @property
  def num_ws(self) -> int:
    return 2 * len(self.channels)

  @nn.compact
  def __call__(self, ws: jax.Array) -> jax.Array:
    const = self.param("const", nn.initializers.normal(1.0), (4, 4, self.channels[0]))
    x = jnp.broadcast_to(const, (ws.shape[0],) + const.shape)
    x = SynthesisLayer(self.channels[0], impl=self.impl, name="b4_conv1")(x, ws[:, 0])
    img = ToRGB(self.out_channels, impl=self.impl, name="b4_torgb")(x, ws[:, 1])
    for i, c in enumerate(self.channels[1:], start=1):
      res = 4 * 2 ** i
      x = SynthesisLayer(c, up=True, impl=self.impl, name=f"b{res}_conv0")(x, ws[:, 2 * i - 1])
      x = SynthesisLayer(c, impl=self.impl, name=f"b{res}_conv1")(x, ws[:, 2 * i])
      img = upsample2d(img) + ToRGB(self.out_channels, impl=self.impl,
                                    name=f"b{res}_torgb")(x, ws[:, 2 * i + 1])
    return img


class StyleGAN2Generator(nn.Module):
  """Latents [B, latent_dim] (+ labels [B]) -> images [B, H, W, C] (linear output, as
  the paper, unless output_activation='tanh'); `map` and `synthesize` are its halves."""
  output_shape: tuple[int, int, int]
  channels: Sequence[int]
  w_dim: int
  mapping_layers: int = 8
  mapping_lr_mul: float = 0.01
  num_classes: int = 0
  conv_impl: str = "auto"
  output_activation: str = "none"

  def setup(self):
    self.mapping = MappingNetwork(self.w_dim, self.mapping_layers, self.mapping_lr_mul,
                                  self.num_classes)
    self.synthesis = SynthesisNetwork(tuple(self.channels), self.output_shape[-1],
                                      self.conv_impl)

  @property
  def num_ws(self) -> int:
    return 2 * len(self.channels)

  def map(self, z: jax.Array, y: jax.Array | None = None) -> jax.Array:
    return self.mapping(z, y)

  def synthesize(self, ws: jax.Array) -> jax.Array:
    img = self.synthesis(ws)
    return jnp.tanh(img) if self.output_activation == "tanh" else img

  def __call__(self, z: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    del train  # no train-mode layers; noise is random iff a 'noise' rng is given
    w = self.map(z, y)
    return self.synthesize(jnp.repeat(w[:, None], self.num_ws, axis=1))


class StyleGAN2Discriminator(nn.Module):
  """Images [B, H, W, C] (+ labels) -> logits [B]: FromRGB, residual blocks down to
  4x4, minibatch stddev, conv, dense, and a logit or a projection onto an embedding of
  the label (cmap, DiscriminatorEpilogue)."""
  channels: Sequence[int]  # per block, input resolution first; the last is the 4x4 epilogue
  mbstd_group: int = 4
  num_classes: int = 0
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    del train
    impl, c = self.conv_impl, self.channels
    h = EqualConv(c[0], 1, activation="lrelu", impl=impl, name="fromrgb")(x)
    for i, (c_in, c_out) in enumerate(zip(c[:-1], c[1:])):
      skip = EqualConv(c_out, 1, down=True, use_bias=False, impl=impl, name=f"b{i}_skip")(h)
      h = EqualConv(c_in, 3, activation="lrelu", impl=impl, name=f"b{i}_conv0")(h)
      h = EqualConv(c_out, 3, down=True, activation="lrelu", impl=impl, name=f"b{i}_conv1")(h)
      h = (skip + h) * math.sqrt(0.5)
    h = minibatch_stddev(h, self.mbstd_group)
    h = EqualConv(c[-1], 3, activation="lrelu", impl=impl, name="epilogue_conv")(h)
    h = EqualDense(c[-1], activation="lrelu", name="epilogue_fc")(h.reshape(h.shape[0], -1))
    if not self.num_classes:
      return EqualDense(1, name="out")(h)[:, 0]
    cmap_dim = c[-1]
    out = EqualDense(cmap_dim, name="out")(h)
    cmap = normalize_2nd_moment(
        EqualDense(cmap_dim, name="cmap")(jax.nn.one_hot(y, self.num_classes)))
    return jnp.sum(out * cmap, axis=-1) / math.sqrt(cmap_dim)


def _levels(spec: DataSpec) -> int:
  """Blocks from 4x4 up to the image side (a power of two >= 4, square images)."""
  if spec.kind != "image":
    raise ConfigError(f"model.name 'stylegan2' needs image data, not {spec.name!r}")
  h, w = spec.shape[:2]
  if h != w or h < 4 or h & (h - 1):
    raise ConfigError(f"model.name 'stylegan2' needs square images with a power-of-two "
                      f"side >= 4, got {h}x{w}; set dataset.image_size")
  return int(math.log2(h)) - 1


def _channels(given: Sequence[int], width: int, n: int, field: str) -> tuple[int, ...]:
  if not given:
    return (width,) * n
  if len(given) != n:
    raise ConfigError(f"model.{field} must list {n} channel counts (one per resolution) "
                      f"for this image size, got {len(given)}")
  return tuple(given)


@MODELS.register("stylegan2")
def build(config: ml_collections.ConfigDict, spec: DataSpec) -> GANModels:
  """`width` channels at every resolution (the paper's CIFAR-10 setting: 512), or
  `g_channels` (4x4 first) / `d_channels` (input side first); `latent_dim` = z = w
  size; `cond` '' or 'projection' (class embedding into the mapping network)."""
  n = _levels(spec)
  cond = conditioning.check_cond(config.cond, spec)
  if cond not in ("", "projection"):
    raise ConfigError(f"model.cond {cond!r} is not supported by model.name 'stylegan2'; "
                      "choose '' or projection")
  jnn.check_impl(config.conv_impl)
  activation = config.output_activation
  if activation not in ("auto", "none", "tanh"):
    raise ConfigError(f"unknown model.output_activation {activation!r}; "
                      "choose one of: auto, none, tanh")
  num_classes = spec.num_classes if cond else 0
  d_width = config.d_width or config.width
  return GANModels(
      generator=StyleGAN2Generator(
          output_shape=tuple(spec.shape),
          channels=_channels(config.g_channels, config.width, n, "g_channels"),
          w_dim=config.latent_dim, mapping_layers=config.mapping_layers,
          mapping_lr_mul=config.mapping_lr_mul, num_classes=num_classes,
          conv_impl=config.conv_impl,
          output_activation="none" if activation == "auto" else activation),
      discriminator=StyleGAN2Discriminator(
          channels=_channels(config.d_channels, d_width, n, "d_channels"),
          mbstd_group=config.mbstd_group, num_classes=num_classes,
          conv_impl=config.conv_impl),
      latent_dim=config.latent_dim,
  )
