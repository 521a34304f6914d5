"""Image and point classifiers by `config.classifier.name` for `trainer: classifier`.

`cnn`: a small conv net for CPU runs; `wrn`: the WideResNet of Zagoruyko & Komodakis
(2016) used by Madry et al. and IAAT (WRN-28-10 / WRN-32-10 on accelerators, narrow on
CPU); `mlp`: for 2-D points. Every model maps (x [B, ...], train) -> logits [B, K].
"""

from __future__ import annotations

from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import nn as jnn
from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.registry import Registry

Builder = Callable[[ml_collections.ConfigDict, DataSpec], nn.Module]
CLASSIFIERS: Registry[Builder] = Registry("classifier.name")


class SmallCNN(nn.Module):
  """(3x3 conv, ReLU, 2x2 max pool) per entry of `channels`, then Dense(hidden), logits."""
  num_classes: int
  channels: Sequence[int] = (32, 64)
  hidden: int = 128
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train  # no BatchNorm or dropout
    for c in self.channels:
      x = nn.relu(jnn.Conv(c, (3, 3), impl=self.conv_impl)(x))
      if min(x.shape[1:3]) >= 2:
        x = jnn.max_pool_2x2(x)  # nn.max_pool's values, a faster gradient on CPU
    x = nn.relu(nn.Dense(self.hidden)(x.reshape(x.shape[0], -1)))
    return nn.Dense(self.num_classes)(x)


class WideBlock(nn.Module):
  """Pre-activation residual block: BN-ReLU-conv3x3-BN-ReLU-conv3x3, 1x1 conv shortcut."""
  channels: int
  strides: int
  conv_impl: str

  @nn.compact
  def __call__(self, x: jax.Array, train: bool) -> jax.Array:
    norm = lambda: nn.BatchNorm(use_running_average=not train, momentum=0.9)
    out = nn.relu(norm()(x))
    shortcut = x
    if x.shape[-1] != self.channels or self.strides != 1:
      shortcut = jnn.Conv(self.channels, (1, 1), strides=self.strides, use_bias=False,
                          impl=self.conv_impl)(out)
    y = jnn.Conv(self.channels, (3, 3), strides=self.strides, use_bias=False,
                 impl=self.conv_impl)(out)
    y = jnn.Conv(self.channels, (3, 3), use_bias=False,
                 impl=self.conv_impl)(nn.relu(norm()(y)))
    return y + shortcut


def wrn_blocks(depth: int) -> int:
  """Blocks per group: (depth - 4) / 6 (Zagoruyko: WRN-28 has 4), or (depth - 2) / 6 for
  the Madry / IAAT count (WRN-32 has 5)."""
  if depth >= 10 and (depth - 4) % 6 == 0:
    return (depth - 4) // 6
  if depth >= 8 and (depth - 2) % 6 == 0:
    return (depth - 2) // 6
  raise ConfigError(f"classifier.depth must be 6n + 4 or 6n + 2 for a WideResNet (28, 32, "
                    f"10...), got {depth}")


class WideResNet(nn.Module):
  """WRN-depth-widen: 3 groups of wrn_blocks(depth) blocks at 16k, 32k, 64k channels."""
  num_classes: int
  depth: int = 28
  widen: int = 10
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    blocks = wrn_blocks(self.depth)
    x = jnn.Conv(16, (3, 3), use_bias=False, impl=self.conv_impl)(x)
    for group, channels in enumerate((16, 32, 64)):
      for i in range(blocks):
        x = WideBlock(channels * self.widen, 2 if group > 0 and i == 0 else 1,
                      self.conv_impl)(x, train)
    x = nn.relu(nn.BatchNorm(use_running_average=not train, momentum=0.9)(x))
    return nn.Dense(self.num_classes)(jnp.mean(x, axis=(1, 2)))


class MLPClassifier(nn.Module):
  """`depth` ReLU layers of `width` units, then logits (for 2-D points)."""
  num_classes: int
  width: int = 64
  depth: int = 2

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    x = x.reshape(x.shape[0], -1)
    for _ in range(self.depth):
      x = nn.relu(nn.Dense(self.width)(x))
    return nn.Dense(self.num_classes)(x)


def _num_classes(spec: DataSpec) -> int:
  if spec.num_classes < 2:
    raise ConfigError(f"trainer 'classifier' needs a labelled dataset; {spec.name!r} has "
                      f"{spec.num_classes} classes")
  return spec.num_classes


@CLASSIFIERS.register("cnn")
def build_cnn(model: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  """classifier.width: channels of the first conv (then 2x); classifier.depth: conv layers."""
  channels = tuple(model.width * 2 ** i for i in range(model.depth))
  return SmallCNN(_num_classes(spec), channels, hidden=4 * model.width,
                  conv_impl=model.conv_impl)


@CLASSIFIERS.register("wrn")
def build_wrn(model: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  """classifier.depth (28, 32, 10, ...: see wrn_blocks) and classifier.widen (papers: 10)."""
  wrn_blocks(model.depth)
  return WideResNet(_num_classes(spec), model.depth, model.widen, conv_impl=model.conv_impl)


@CLASSIFIERS.register("mlp")
def build_mlp(model: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  return MLPClassifier(_num_classes(spec), model.width, model.depth)


def build_classifier(model: ml_collections.ConfigDict, spec: DataSpec) -> nn.Module:
  """The classifier named by `classifier.name` (the config.classifier block) for `spec`."""
  return CLASSIFIERS.get(model.name)(model, spec)
