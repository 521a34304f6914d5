"""Networks of the domain-adaptation trainers: feature extractor F, classifier C, domain
critic, and Generate-To-Adapt's generator G and two-headed discriminator D.

F follows the NW / DANN digit networks (two 5x5 convs with max-pooling, then a dense
embedding); G and D follow Generate To Adapt (Sankaranarayanan et al. 2018), scaled down.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.nn.conv import Conv, ConvTranspose  # matmul lowering on CPU: XLA's CPU convs are slow


class FeatureExtractor(nn.Module):
  """F: image [B, H, W, C] -> features [B, feature_dim] (ReLU outputs)."""
  width: int = 32
  feature_dim: int = 128
  impl: str = "auto"  # conv lowering (jaxgen/nn/conv.py): auto = matmul on CPU

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    x = nn.relu(nn.max_pool(Conv(self.width, (5, 5), impl=self.impl)(x), (2, 2), (2, 2)))
    x = Conv(int(1.5 * self.width), (5, 5), impl=self.impl)(x)
    x = nn.relu(nn.max_pool(x, (2, 2), (2, 2)))
    return nn.relu(nn.Dense(self.feature_dim)(x.reshape(x.shape[0], -1)))


class MLPHead(nn.Module):
  """Dense(hidden) - ReLU - ... - Dense(outputs): the classifier C and the domain critics."""
  hidden: tuple[int, ...] = (100,)
  outputs: int = 10

  @nn.compact
  def __call__(self, h: jax.Array) -> jax.Array:
    for width in self.hidden:
      h = nn.relu(nn.Dense(width)(h))
    return nn.Dense(self.outputs)(h)


class GTAGenerator(nn.Module):
  """G: [one-hot (K+1) label, F's features, z] -> image in [-1, 1] of `shape`.

  Label K marks target embeddings (GTA's extra class). Dense to a (H/4, W/4) map, then two
  stride-2 transposed convs with BatchNorm and ReLU, tanh output.
  """
  shape: tuple[int, int, int]
  width: int = 32
  impl: str = "auto"

  @nn.compact
  def __call__(self, h: jax.Array, train: bool = True) -> jax.Array:
    height, width, channels = self.shape
    norm = lambda: nn.BatchNorm(use_running_average=not train, momentum=0.9)
    s0, s1 = -(-height // 4), -(-width // 4)
    x = nn.Dense(s0 * s1 * 2 * self.width, use_bias=False)(h)
    x = nn.relu(norm()(x)).reshape(h.shape[0], s0, s1, 2 * self.width)
    x = ConvTranspose(self.width, (4, 4), (2, 2), use_bias=False, impl=self.impl)(x)
    x = nn.relu(norm()(x))
    x = ConvTranspose(channels, (4, 4), (2, 2), impl=self.impl)(x)
    return jnp.tanh(x[:, :height, :width])


class GTADiscriminator(nn.Module):
  """D: image -> (real/fake logits [B], class logits [B, K]).

  3x3 conv, BatchNorm, LeakyReLU(0.2) and 2x2 max-pooling blocks, then global
  average pooling and the two linear heads (GTA's netD, two blocks fewer).
  """
  num_classes: int
  width: int = 32
  impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True) -> tuple[jax.Array, jax.Array]:
    for mult in (1, 2, 2):
      x = Conv(mult * self.width, (3, 3), impl=self.impl)(x)
      x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
      x = nn.max_pool(nn.leaky_relu(x, 0.2), (2, 2), (2, 2))
    h = jnp.mean(x, axis=(1, 2))
    return nn.Dense(1)(h)[:, 0], nn.Dense(self.num_classes)(h)
