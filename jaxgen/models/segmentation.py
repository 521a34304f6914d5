"""CPU-sized networks of LSD-seg (Sankaranarayanan et al., CVPR 2018): an FCN segmenter
(F = encoder, C = pixel classifier), the generator G that reconstructs an image from F's
multi-scale embedding, and the patch discriminator D with a 4-way domain head and a
per-pixel class head.

Scaled down from the reference FCN8s-VGG16 / netG / netD: F's pooled features at 1/2,
1/4 and 1/8 resolution play pool3 / pool4 / fc7; G upsamples fc7 and concatenates the
skips as netG does; D keeps instance norm and LeakyReLU(0.2) with outputs at 1/4 of the
input side (netD: 1/8).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.nn.conv import Conv, ConvTranspose  # matmul lowering on CPU: XLA's CPU convs are slow

DOMAIN_CLASSES = 4  # D's patch labels: source real, source fake, target real, target fake


class SegEncoder(nn.Module):
  """F: image [B, H, W, 3] -> (f0 at 1, f1 at 1/2, f2 at 1/4, f3 at 1/8 resolution)."""
  width: int = 16
  impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, ...]:
    conv = lambda c: Conv(c, (3, 3), impl=self.impl)
    pool = lambda h: nn.max_pool(h, (2, 2), (2, 2))
    f0 = nn.relu(conv(self.width)(x))
    f1 = pool(nn.relu(conv(self.width)(f0)))
    f2 = pool(nn.relu(conv(2 * self.width)(f1)))
    f3 = pool(nn.relu(conv(4 * self.width)(f2)))
    f3 = nn.relu(conv(4 * self.width)(f3))  # the "fc7" embedding
    return f0, f1, f2, f3


class PixelClassifier(nn.Module):
  """C: FCN-8s-style skip head; 1x1 class scores of each scale, upsampled and summed."""
  num_classes: int

  @nn.compact
  def __call__(self, features: tuple[jax.Array, ...]) -> jax.Array:
    logits = None
    for f in reversed(features):  # coarse to fine, as upscore2 + score_pool4 ...
      score = nn.Dense(self.num_classes)(f)
      if logits is not None:
        logits = jax.image.resize(logits, score.shape, "bilinear")
        score = score + logits
      logits = score
    return logits


class Segmenter(nn.Module):
  """F then C: image -> (per-pixel logits [B, H, W, K], F's features)."""
  num_classes: int
  width: int = 16
  impl: str = "auto"

  def setup(self):
    self.encoder = SegEncoder(self.width, self.impl)
    self.classifier = PixelClassifier(self.num_classes)

  def __call__(self, x: jax.Array) -> tuple[jax.Array, tuple[jax.Array, ...]]:
    features = self.encoder(x)
    return self.classifier(features), features


class SegGenerator(nn.Module):
  """G: F's (f1, f2, f3) -> image in [-1, 1] at the input size (f0 is not used, so G
  cannot copy the image through a full-resolution skip)."""
  width: int = 16
  channels: int = 3
  impl: str = "auto"

  @nn.compact
  def __call__(self, features: tuple[jax.Array, ...]) -> jax.Array:
    f1, f2, f3 = features
    up = lambda c: ConvTranspose(c, (4, 4), (2, 2), use_bias=False, impl=self.impl)
    conv = lambda c: Conv(c, (3, 3), use_bias=False, impl=self.impl)
    norm_relu = lambda h: nn.relu(nn.InstanceNorm()(h))
    h = norm_relu(up(4 * self.width)(f3))                  # 1/4
    h = norm_relu(conv(2 * self.width)(jnp.concatenate([h, f2], -1)))
    h = norm_relu(up(2 * self.width)(h))                   # 1/2
    h = norm_relu(conv(self.width)(jnp.concatenate([h, f1], -1)))
    h = norm_relu(up(self.width)(h))                       # 1
    return jnp.tanh(Conv(self.channels, (3, 3), impl=self.impl)(h))


class PatchDiscriminator(nn.Module):
  """D: image -> (domain logits [B, H/4, W/4, 4], class logits [B, H/4, W/4, K])."""
  num_classes: int
  width: int = 32
  impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    block = lambda h, c, stride=1: nn.leaky_relu(
        nn.InstanceNorm()(Conv(c, (3, 3), (stride, stride), impl=self.impl)(h)), 0.2)
    h = block(block(x, self.width, 2), self.width)
    h = nn.max_pool(h, (2, 2), (2, 2))
    h = block(block(h, 2 * self.width), 2 * self.width)
    head = lambda c: Conv(c, (3, 3), impl=self.impl)(h)
    return head(DOMAIN_CLASSES), head(self.num_classes)
