"""SNGAN ResNet generator and discriminator (Miyato et al. 2018), SAGAN with attention.

G: z -> dense 4x4 -> [BN, ReLU, up, conv3x3, BN, ReLU, conv3x3] + (conv1x1, up) blocks
-> BN, ReLU, conv3x3 -> tanh. D: the optimized first block, then pre-activation blocks
(ReLU, conv3x3, ReLU, conv3x3, avg-pool) + (conv1x1, avg-pool) -> ReLU -> global sum
pooling -> SN dense (plus the `model.cond` head). 16/32x32 use the CIFAR layout
(`width` channels throughout, D ends at 8x8); 64x64 the ImageNet one (G 16w..w,
D w..16w down to 4x4). `attention_res` inserts a self-attention block (SAGAN) after
the G and D blocks that output that resolution. The blocks are shared with BigGAN.
`dtype` (train.compute_dtype) runs activations and matmuls in bfloat16; parameters,
BatchNorm statistics, spectral-norm power iterations, images and logits stay float32.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import nn as jnn
from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.models import conditioning
from jaxgen.models.attention import SelfAttention
from jaxgen.models.conditioning import ConditionalBatchNorm, DiscriminatorHead
from jaxgen.models.dcgan import output_activation
from jaxgen.models.registry import MODELS, GANModels

# SNGAN's initialisation: Glorot uniform, gain sqrt(2) in the residual branch.
residual_init = nn.initializers.variance_scaling(2.0, "fan_avg", "uniform")
glorot = nn.initializers.xavier_uniform()

G_NORMS = ("batch", "spectral")  # 'spectral': SN on every G weight as well (SAGAN)
D_NORMS = ("spectral", "none")   # 'none': e.g. for WGAN-GP


def upsample(x: jax.Array) -> jax.Array:
  """Nearest-neighbour 2x upsampling of [B, H, W, C]."""
  b, h, w, c = x.shape
  x = jnp.broadcast_to(x[:, :, None, :, None, :], (b, h, 2, w, 2, c))
  return x.reshape(b, 2 * h, 2 * w, c)


def downsample(x: jax.Array) -> jax.Array:
  """2x2 average pooling of [B, H, W, C]."""
  b, h, w, c = x.shape
  return x.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


class _ConvFactory:
  """Makes (optionally spectrally normalized) 'SAME' convs with one init and lowering."""

  def __init__(self, spectral: bool, train: bool, impl: str, dtype: Any = None):
    self.spectral, self.train, self.impl, self.dtype = spectral, train, impl, dtype

  def __call__(self, features: int, size: int, init: Any, name: str | None = None):
    # SN's power iteration sees the float32 kernel; the conv casts it to `dtype` after.
    layer = jnn.Conv(features, (size, size), padding="SAME", kernel_init=init,
                     impl=self.impl, dtype=self.dtype, name=name)
    return jnn.spectral_norm(layer, self.train, self.spectral)


class GBlock(nn.Module):
  """Up-sampling residual block; its BatchNorms are conditioned on c (see
  ConditionalBatchNorm: None, int labels or a vector)."""
  features: int
  num_classes: int = 0
  spectral: bool = False
  conv_impl: str = "auto"
  kernel_init: Any = residual_init
  shortcut_init: Any = glorot
  dtype: Any = None  # compute dtype; None = the params' float32

  @nn.compact
  def __call__(self, x: jax.Array, c: jax.Array | None, train: bool = True) -> jax.Array:
    conv = _ConvFactory(self.spectral, train, self.conv_impl, self.dtype)
    bn = lambda: ConditionalBatchNorm(self.num_classes, self.spectral, dtype=self.dtype)
    h = upsample(nn.relu(bn()(x, c, train)))
    h = conv(self.features, 3, self.kernel_init)(h)
    h = nn.relu(bn()(h, c, train))
    h = conv(self.features, 3, self.kernel_init)(h)
    # A 1x1 conv commutes with nearest upsampling; convolving first is 4x cheaper.
    return h + upsample(conv(self.features, 1, self.shortcut_init, "shortcut")(x))


def up_trunk(x: jax.Array, conditions: Sequence[Any], channels: Sequence[int], *,
             train: bool, out_channels: int, output_activation: str, attention_res: int = 0,
             num_classes: int = 0, spectral: bool = False, conv_impl: str = "auto",
             kernel_init: Any = residual_init, shortcut_init: Any = glorot,
             out_init: Any = glorot, attention_kwargs: Any = None,
             dtype: Any = None) -> jax.Array:
  """G after its 4x4 dense layer, shared by SNGAN/SAGAN and BigGAN: one GBlock per entry
  of `channels` (block i conditioned on conditions[i]), self-attention after the block
  that outputs `attention_res`, then BN, ReLU, conv3x3 and `output_activation`.

  Called inside a generator's compact `__call__`, so its layers are the generator's own
  (GBlock_i, SelfAttention_0, ...): the parameter tree is that of an inline loop.
  """
  for features, c in zip(channels, conditions):
    x = GBlock(features, num_classes, spectral, conv_impl, kernel_init, shortcut_init,
               dtype)(x, c, train)
    if x.shape[1] == attention_res:
      x = SelfAttention(spectral=spectral, conv_impl=conv_impl, dtype=dtype,
                        **(attention_kwargs or {}))(x, train)
  x = nn.relu(ConditionalBatchNorm(dtype=dtype)(x, None, train))
  x = _ConvFactory(spectral, train, conv_impl, dtype)(out_channels, 3, out_init)(x)
  x = x.astype(jnp.float32)  # images (and the losses on them) in float32
  return jnp.tanh(x) if output_activation == "tanh" else x


class DBlock(nn.Module):
  """Residual block, optionally halving the resolution; `preactivation=False` is
  SNGAN's optimized first block (no ReLU on the input image)."""
  features: int
  down: bool = True
  preactivation: bool = True
  spectral: bool = True
  conv_impl: str = "auto"
  kernel_init: Any = residual_init
  shortcut_init: Any = glorot
  dtype: Any = None  # compute dtype; None = the params' float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
    conv = _ConvFactory(self.spectral, train, self.conv_impl, self.dtype)
    h = nn.relu(x) if self.preactivation else x
    h = conv(self.features, 3, self.kernel_init)(h)
    h = conv(self.features, 3, self.kernel_init)(nn.relu(h))
    shortcut = x
    if self.down:  # avg-pool commutes with a 1x1 conv; pooling first is 4x cheaper
      h, shortcut = downsample(h), downsample(shortcut)
    if self.down or x.shape[-1] != self.features:
      shortcut = conv(self.features, 1, self.shortcut_init, "shortcut")(shortcut)
    return h + shortcut


class ResNetFeatures(nn.Module):
  """D's body: images [B, H, W, C] -> ReLU + global sum pooled features [B, channels[-1]].

  Block i has channels[i] outputs and halves the resolution if down[i]; block 0 is the
  optimized block. Also the encoder trunk for AE/VAE models of this family.
  """
  channels: Sequence[int]
  down: Sequence[bool]
  attention_res: int = 0
  spectral: bool = True
  conv_impl: str = "auto"
  kernel_init: Any = residual_init
  shortcut_init: Any = glorot
  attention_kwargs: Any = None
  dtype: Any = None  # compute dtype; None = the params' float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
    attended = False
    for i, (features, down) in enumerate(zip(self.channels, self.down)):
      x = DBlock(features, down=down, preactivation=i > 0, spectral=self.spectral,
                 conv_impl=self.conv_impl, kernel_init=self.kernel_init,
                 shortcut_init=self.shortcut_init, dtype=self.dtype)(x, train)
      if x.shape[1] == self.attention_res and not attended:
        x = SelfAttention(spectral=self.spectral, conv_impl=self.conv_impl,
                          dtype=self.dtype, **(self.attention_kwargs or {}))(x, train)
        attended = True
    # The pooled features (and the head's logits) in float32.
    return jnp.sum(nn.relu(x).astype(jnp.float32), axis=(1, 2))


class ResNetDiscriminator(nn.Module):
  """Images [B, H, W, C] -> logits [B] (or (logits, class logits), see DiscriminatorHead)."""
  channels: Sequence[int]
  down: Sequence[bool]
  attention_res: int = 0
  cond: str = ""
  num_classes: int = 0
  spectral: bool = True
  conv_impl: str = "auto"
  kernel_init: Any = residual_init
  shortcut_init: Any = glorot
  attention_kwargs: Any = None
  dtype: Any = None  # compute dtype (train.compute_dtype); None = the params' float32

  @nn.compact
  def __call__(self, x: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array | tuple[jax.Array, jax.Array]:
    if self.cond == "concat":
      x = conditioning.concat_one_hot(x, y, self.num_classes)
    h = ResNetFeatures(self.channels, self.down, self.attention_res, self.spectral,
                       self.conv_impl, self.kernel_init, self.shortcut_init,
                       self.attention_kwargs, self.dtype)(x, train)
    return DiscriminatorHead(self.cond, self.num_classes, self.spectral,
                             self.shortcut_init)(h, y, train)


class ResNetGenerator(nn.Module):
  """Latents [B, latent_dim] -> images [B, H, W, C]; channels[0] at 4x4, then one
  up-block per further entry. Any non-empty `cond` uses class-conditional BatchNorm."""
  output_shape: tuple[int, int, int]
  channels: Sequence[int]
  attention_res: int = 0
  cond: str = ""
  num_classes: int = 0
  spectral: bool = False
  conv_impl: str = "auto"
  output_activation: str = "tanh"  # 'none': logits, e.g. for a Bernoulli VAE decoder
  dtype: Any = None  # compute dtype (train.compute_dtype); None = the params' float32

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    c = y if self.cond else None
    x = jnn.spectral_norm(nn.Dense(16 * self.channels[0], kernel_init=glorot,
                                   dtype=self.dtype), train, self.spectral)(z)
    x = x.reshape(z.shape[0], 4, 4, self.channels[0])
    return up_trunk(x, [c] * (len(self.channels) - 1), self.channels[1:], train=train,
                    out_channels=self.output_shape[-1],
                    output_activation=self.output_activation,
                    attention_res=self.attention_res, num_classes=self.num_classes,
                    spectral=self.spectral, conv_impl=self.conv_impl, dtype=self.dtype)


def resolution(spec: DataSpec, model: str) -> int:
  """The side of `spec`'s square images, checked to be 16, 32 or 64."""
  if spec.kind != "image":
    raise ConfigError(f"model.name {model!r} needs an image dataset; "
                      f"dataset {spec.name!r} has {spec.kind} examples")
  height, width = spec.shape[:2]
  if height != width or height not in (16, 32, 64):
    raise ConfigError(f"model.name {model!r} needs square images of side 16, 32 or 64 "
                      f"(set dataset.image_size); got {height}x{width}")
  return height


def d_layout(side: int) -> tuple[tuple[int, ...], tuple[bool, ...]]:
  """Channel multipliers and down-sampling of the D blocks (SNGAN / BigGAN layouts)."""
  if side == 64:
    return (1, 2, 4, 8, 16), (True, True, True, True, False)
  n = int(math.log2(side // 4))  # CIFAR layout: down to 8x8, then two more blocks
  return (1,) * (n + 1), (True,) * (n - 1) + (False, False)


def check_options(config: ml_collections.ConfigDict, spec: DataSpec, model: str,
                  g_resolutions: Sequence[int], d_resolutions: Sequence[int]) -> None:
  """One-line errors for norms, attention resolution and output activation."""
  for field, allowed in (("g_norm", G_NORMS), ("d_norm", D_NORMS)):
    value = config[field]
    if value not in allowed:
      raise ConfigError(f"model.{field} {value!r} is not supported by model.name "
                        f"{model!r}; choose one of: {', '.join(allowed)}")
  choices = [0] + sorted(set(g_resolutions) & set(d_resolutions))
  attention_res = config.attention_res
  if attention_res not in choices:
    raise ConfigError(f"model.attention_res {attention_res} is not a feature-map "
                      f"resolution of {model!r} at {spec.shape[0]}x{spec.shape[1]}; "
                      f"choose one of: {', '.join(map(str, choices))}")
  output_activation(config)
  jnn.check_impl(config.conv_impl)


def d_resolutions(side: int, down: Sequence[bool]) -> list[int]:
  out = []
  for d in down:
    side //= 2 if d else 1
    out.append(side)
  return out


@MODELS.register("resnet")
def build(config: ml_collections.ConfigDict, spec: DataSpec) -> GANModels:
  """SNGAN (`g_norm='batch'`, `d_norm='spectral'`); SAGAN adds `attention_res` and
  `g_norm='spectral'`. `width` sizes G, `d_width` (default `width`) sizes D."""
  side = resolution(spec, "resnet")
  cond = conditioning.check_cond(config.cond, spec)
  n = int(math.log2(side // 4))
  d_mult, down = d_layout(side)
  check_options(config, spec, "resnet", [4 * 2 ** i for i in range(1, n + 1)],
                d_resolutions(side, down))
  width, d_width = config.width, config.d_width or config.width
  g_mult = (16, 8, 4, 2, 1) if side == 64 else (1,) * (n + 1)
  common = dict(attention_res=config.attention_res, cond=cond,
                num_classes=spec.num_classes, conv_impl=config.conv_impl)
  return GANModels(
      generator=ResNetGenerator(
          output_shape=tuple(spec.shape), channels=tuple(width * m for m in g_mult),
          spectral=config.g_norm == "spectral",
          output_activation=output_activation(config), **common),
      discriminator=ResNetDiscriminator(
          channels=tuple(d_width * m for m in d_mult), down=down,
          spectral=config.d_norm == "spectral", **common),
      latent_dim=config.latent_dim,
  )
