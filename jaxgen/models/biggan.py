"""A small BigGAN (Brock et al. 2019): shared class embedding, hierarchical latent,
conditional BatchNorm from [embedding, z chunk], self-attention, SN in G and D,
projection discriminator, orthogonal init; truncated noise for sampling.

Layouts follow BigGAN-PyTorch's G_arch/D_arch: at 16/32x32 G and D have 4 * `width`
channels throughout (D as SNGAN's CIFAR D); at 64x64 G has 16w, 16w, 8w, 4w, 2w and
D w..16w. Orthogonal regularisation is `jaxgen.losses.orthogonal_regularization`.
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
from jaxgen.models import conditioning
from jaxgen.models.dcgan import output_activation
from jaxgen.models.registry import MODELS, GANModels
from jaxgen.models.resnet import (ResNetDiscriminator, check_options, d_layout,
                                  d_resolutions, resolution, up_trunk)

ortho = nn.initializers.orthogonal()
# BigGAN-PyTorch's attention: keys/queries C/8, values C/2, keys/values max-pooled.
ATTENTION = dict(key_divisor=8, value_divisor=2, pool=True, kernel_init=ortho)


def truncated_noise(key: jax.Array, n: int, dim: int,
                    threshold: float | None = None) -> jax.Array:
  """z ~ N(0, I) [n, dim], each entry resampled until |z| <= threshold (the truncation
  trick, BigGAN sec. 3.1); threshold None gives the untruncated normal."""
  if threshold is None:
    return jax.random.normal(key, (n, dim))
  if threshold <= 0:
    raise ValueError(f"truncation threshold must be positive, got {threshold}")
  return jax.random.truncated_normal(key, -threshold, threshold, (n, dim))


class BigGANGenerator(nn.Module):
  """Latents [B, latent_dim] (+ labels [B]) -> images [B, H, W, C].

  z is split into len(channels) chunks: the first feeds the 4x4 dense layer, chunk
  i + 1 (concatenated with the shared class embedding) conditions block i's BNs.
  """
  output_shape: tuple[int, int, int]
  channels: Sequence[int]
  attention_res: int = 0
  cond: str = ""
  num_classes: int = 0
  embed_dim: int = 128
  spectral: bool = True
  conv_impl: str = "auto"
  output_activation: str = "tanh"
  dtype: Any = None  # compute dtype (train.compute_dtype); None = the params' float32

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    sn = lambda layer: jnn.spectral_norm(layer, train, self.spectral)
    chunks = jnp.array_split(z, len(self.channels), axis=-1)
    shared = (nn.Embed(self.num_classes, self.embed_dim, embedding_init=ortho,
                       name="shared")(y) if self.cond else None)
    x = sn(nn.Dense(16 * self.channels[0], kernel_init=ortho, dtype=self.dtype))(chunks[0])
    x = x.reshape(z.shape[0], 4, 4, self.channels[0])
    conditions = [chunk if shared is None else jnp.concatenate([shared, chunk], axis=-1)
                  for chunk in chunks[1:]]
    return up_trunk(x, conditions, self.channels[1:], train=train,
                    out_channels=self.output_shape[-1],
                    output_activation=self.output_activation,
                    attention_res=self.attention_res, spectral=self.spectral,
                    conv_impl=self.conv_impl, kernel_init=ortho, shortcut_init=ortho,
                    out_init=ortho, attention_kwargs=ATTENTION, dtype=self.dtype)


@MODELS.register("biggan")
def build(config: ml_collections.ConfigDict, spec: DataSpec) -> GANModels:
  """`width` is BigGAN's `ch`; `embed_dim` the shared embedding size (128);
  `attention_res` (0 = none); `g_norm`/`d_norm` 'spectral' as in the paper."""
  side = resolution(spec, "biggan")
  cond = conditioning.check_cond(config.cond, spec)
  n = int(math.log2(side // 4))
  d_mult, down = d_layout(side)
  if side != 64:
    d_mult = (4,) * len(d_mult)
  check_options(config, spec, "biggan", [4 * 2 ** i for i in range(1, n + 1)],
                d_resolutions(side, down))
  width, d_width = config.width, config.d_width or config.width
  g_mult = (16, 16, 8, 4, 2) if side == 64 else (4,) * (n + 1)
  common = dict(attention_res=config.attention_res, cond=cond,
                num_classes=spec.num_classes, conv_impl=config.conv_impl)
  return GANModels(
      generator=BigGANGenerator(
          output_shape=tuple(spec.shape), channels=tuple(width * m for m in g_mult),
          embed_dim=config.embed_dim, spectral=config.g_norm == "spectral",
          output_activation=output_activation(config), **common),
      discriminator=ResNetDiscriminator(
          channels=tuple(d_width * m for m in d_mult), down=down,
          spectral=config.d_norm == "spectral", kernel_init=ortho,
          shortcut_init=ortho, attention_kwargs=ATTENTION, **common),
      latent_dim=config.latent_dim,
  )
