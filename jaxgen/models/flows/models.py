"""Flow models by `config.flow.model`: glow, realnvp (multi-scale images), flow2d (vectors).

Each model is an `Invertible` whose forward maps data [B, *shape] to latents [B, D] that
are N(0, I) under the model (the multi-scale factor-outs whiten their conditional
priors), with the log-det of the whole map; `inverse` maps [B, D] latents back.
"""

from __future__ import annotations

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.models.flows.layers import ActNorm, Coupling, FactorOut, Invertible, InvConv1x1
from jaxgen.models.flows.layers import Squeeze
from jaxgen.registry import Registry

Array = jax.Array
FLOWS: Registry = Registry("flow.model")


def _run(layers: Sequence[nn.Module], x: Array, reverse: bool) -> tuple[Array, Array]:
  logdet = jnp.zeros(x.shape[:1])
  for layer in (reversed(layers) if reverse else layers):
    x, ld = layer(x, reverse=reverse)
    logdet = logdet + ld
  return x, logdet


def _flatten(pieces: Sequence[Array]) -> Array:
  return jnp.concatenate([p.reshape(p.shape[0], -1) for p in pieces], axis=-1)


def _unflatten(z: Array, shapes: Sequence[tuple[int, ...]]) -> list[Array]:
  pieces, start = [], 0
  for shape in shapes:
    size = math.prod(shape)
    pieces.append(z[:, start:start + size].reshape((z.shape[0],) + tuple(shape)))
    start += size
  return pieces


class MultiScale(Invertible):
  """Levels of [optional squeeze, blocks], a factor-out between levels; latents flattened.

  Subclasses define `level_blocks(level) -> (squeeze_first, pre_split_layers)` and
  `learned_prior`.
  """
  shape: tuple[int, int, int] = (8, 8, 1)
  levels: int = 2
  conv_impl: str = "auto"
  learned_prior: bool = True

  def level_layers(self, level: int) -> list[nn.Module]:
    raise NotImplementedError

  def piece_shapes(self) -> list[tuple[int, int, int]]:
    """Shapes of the factored-out latents, then of the last level's output."""
    h, w, c = self.shape
    shapes = []
    for level in range(self.levels):
      h, w, c = self.level_shape(level, h, w, c)
      if level < self.levels - 1:
        shapes.append((h, w, c - c // 2))
        c = c // 2
    return shapes + [(h, w, c)]

  def level_shape(self, level: int, h: int, w: int, c: int) -> tuple[int, int, int]:
    return h // 2, w // 2, 4 * c

  @nn.compact
  def __call__(self, x: Array, reverse: bool = False) -> tuple[Array, Array]:
    levels = [self.level_layers(level) for level in range(self.levels)]
    splits = [FactorOut(self.learned_prior, self.conv_impl) for _ in range(self.levels - 1)]
    if not reverse:
      pieces, logdet = [], jnp.zeros(x.shape[:1])
      for level, layers in enumerate(levels):
        x, ld = _run(layers, x, False)
        logdet = logdet + ld
        if level < self.levels - 1:
          x, eps, ld = splits[level](x)
          pieces.append(eps)
          logdet = logdet + ld
      return _flatten(pieces + [x]), logdet
    pieces = _unflatten(x, self.piece_shapes())
    h, logdet = pieces[-1], jnp.zeros(x.shape[:1])
    for level in reversed(range(self.levels)):
      if level < self.levels - 1:
        h = splits[level].inverse(h, pieces[level])
      h, ld = _run(levels[level], h, True)
      logdet = logdet + ld
    return h, logdet  # the prior-whitening log-dets are not needed in this direction


class Glow(MultiScale):
  """Glow (Kingma & Dhariwal 2018): L levels of squeeze + K x [actnorm, 1x1 conv, coupling]."""
  steps: int = 4
  hidden: int = 64
  lu: bool = True
  additive: bool = False

  def level_layers(self, level: int) -> list[nn.Module]:
    layers = [Squeeze()]
    for _ in range(self.steps):
      layers += [ActNorm(), InvConv1x1(self.lu),
                 Coupling("channel", 0, self.hidden, additive=self.additive,
                          scale="sigmoid", conv_impl=self.conv_impl)]
    return layers


class RealNVP(MultiScale):
  """Real NVP (Dinh et al. 2017): per scale 3 checkerboard couplings, squeeze, 3 channel
  couplings, factor-out; the last scale 4 checkerboard couplings. ActNorm before every
  coupling stands in for the paper's batch norm (a data-independent bijection at test time).
  """
  hidden: int = 64
  learned_prior: bool = False

  def level_shape(self, level: int, h: int, w: int, c: int) -> tuple[int, int, int]:
    return (h, w, c) if level == self.levels - 1 else (h // 2, w // 2, 4 * c)

  def _couplings(self, mask: str, n: int) -> list[nn.Module]:
    layers = []
    for i in range(n):
      layers += [ActNorm(), Coupling(mask, i % 2, self.hidden, scale="tanh",
                                     conv_impl=self.conv_impl)]
    return layers

  def level_layers(self, level: int) -> list[nn.Module]:
    if level == self.levels - 1:
      return self._couplings("checkerboard", 4)
    return self._couplings("checkerboard", 3) + [Squeeze()] + self._couplings("channel", 3)


class Flow2D(Invertible):
  """A vector flow (RealNVP on MLPs): K x [actnorm, affine coupling of alternating halves]."""
  steps: int = 8
  hidden: int = 64
  depth: int = 2
  scale: str = "tanh"

  @nn.compact
  def __call__(self, x: Array, reverse: bool = False) -> tuple[Array, Array]:
    layers = []
    for k in range(self.steps):
      layers += [ActNorm(), Coupling("channel", k % 2, self.hidden, self.depth,
                                     scale=self.scale)]
    return _run(layers, x, reverse)


def _check_image(spec: DataSpec, levels: int, name: str) -> tuple[int, int, int]:
  if spec.kind != "image":
    raise ConfigError(f"flow.model {name!r} needs an image dataset; use flow.model='flow2d' "
                      f"for {spec.name!r}")
  h, w, c = spec.shape
  if h % 2 ** levels or w % 2 ** levels:
    raise ConfigError(f"flow.levels={levels} needs image sides divisible by {2 ** levels}, "
                      f"got {h}x{w} (set dataset.image_size)")
  return h, w, c


@FLOWS.register("glow")
def build_glow(config: ml_collections.ConfigDict, spec: DataSpec) -> Glow:
  shape = _check_image(spec, config.levels, "glow")
  return Glow(shape=shape, levels=config.levels, steps=config.steps, hidden=config.width,
              lu=config.lu, additive=config.additive, conv_impl=config.conv_impl,
              learned_prior=True)


@FLOWS.register("realnvp")
def build_realnvp(config: ml_collections.ConfigDict, spec: DataSpec) -> RealNVP:
  shape = _check_image(spec, config.levels - 1, "realnvp")
  return RealNVP(shape=shape, levels=config.levels, hidden=config.width,
                 conv_impl=config.conv_impl, learned_prior=False)


@FLOWS.register("flow2d")
def build_flow2d(config: ml_collections.ConfigDict, spec: DataSpec) -> Flow2D:
  if spec.kind != "points":
    raise ConfigError(f"flow.model 'flow2d' is for point datasets, got {spec.name!r}")
  return Flow2D(steps=config.steps, hidden=config.width, depth=config.depth)


def build_flow(config: ml_collections.ConfigDict, spec: DataSpec) -> Invertible:
  """The flow named by `config.model` (the `config.flow` block) for data of `spec`."""
  return FLOWS.get(config.model)(config, spec)
