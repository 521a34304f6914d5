"""Synthetic 2-D Gaussian mixtures for mode-collapse studies (ring8, grid25, mixture)."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from jaxgen.data.base import (
    DATASETS,
    Batch,
    DataSpec,
    Dataset,
    batch_rng,
    check_stream_args,
    eval_rng,
)
from jaxgen.errors import ConfigError


def _read_only(a: np.ndarray) -> np.ndarray:
  a.flags.writeable = False
  return a


class GaussianMixture(Dataset):
  """Isotropic 2-D Gaussian mixture; label = component index.

  `means` [K, 2], `stds` [K] and `weights` [K] (normalised) are public so
  mode-coverage metrics can score samples against the true modes.
  """

  def __init__(self, name: str, means: Any, stds: Any, weights: Any = None):
    means = np.array(means, np.float64)
    if means.ndim != 2 or means.shape[1] != 2 or not len(means):
      raise ConfigError(f"dataset {name!r}: dataset.means must be a non-empty list of [x, y]")
    k = len(means)
    stds = np.array(stds, np.float64)
    if stds.ndim == 0:
      stds = np.full(k, stds)
    if stds.shape != (k,) or np.any(stds <= 0):
      raise ConfigError(f"dataset {name!r}: dataset.stds must be positive, one or {k} values")
    weights = np.ones(k) if weights is None else np.array(weights, np.float64)
    if weights.shape != (k,) or np.any(weights < 0) or weights.sum() <= 0:
      raise ConfigError(
          f"dataset {name!r}: dataset.weights must be {k} non-negative values, not all 0"
      )
    self.means = _read_only(means)
    self.stds = _read_only(stds)
    self.weights = _read_only(weights / weights.sum())
    self.spec = DataSpec(name, (2,), k, "points")

  def _draw(self, rng: np.random.Generator, n: int) -> Batch:
    y = rng.choice(len(self.weights), size=n, p=self.weights)
    x = self.means[y] + self.stds[y, None] * rng.standard_normal((n, 2))
    return {"x": x.astype(np.float32), "y": y.astype(np.int32)}

  def batches(self, batch_size: int, *, seed: int, start: int = 0) -> Iterator[Batch]:
    batch_size, seed, start = check_stream_args(batch_size, seed, start)
    return self._stream(batch_size, seed, start)

  def _stream(self, batch_size: int, seed: int, start: int) -> Iterator[Batch]:
    i = start
    while True:
      yield self._draw(batch_rng(seed, i), batch_size)
      i += 1

  def sample(self, n: int, *, seed: int) -> Batch:
    return self._draw(eval_rng(seed), int(n))


def ring_means(num_modes: int = 8, radius: float = 2.0) -> np.ndarray:
  """Means evenly spaced on a circle, the first at angle 0."""
  angles = 2 * np.pi * np.arange(num_modes) / num_modes
  return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_means(side: int = 5, spacing: float = 2.0) -> np.ndarray:
  """Means on a side x side grid centred at 0, row-major in (x, y)."""
  coords = spacing * (np.arange(side) - (side - 1) / 2)
  xs, ys = np.meshgrid(coords, coords, indexing="ij")
  return np.stack([xs.ravel(), ys.ravel()], axis=1)


@DATASETS.register("ring8")
def build_ring8(config: Any) -> GaussianMixture:
  """8 modes on a circle of radius 2, std 0.02 (unrolled GAN / VEEGAN setup)."""
  means = ring_means(8, float(config.radius))
  return GaussianMixture("ring8", means, float(config.std or 0.02))


@DATASETS.register("grid25")
def build_grid25(config: Any) -> GaussianMixture:
  """5x5 modes at {-4, -2, 0, 2, 4}^2, std 0.05 (VEEGAN / PacGAN setup)."""
  means = grid_means(5, float(config.spacing))
  return GaussianMixture("grid25", means, float(config.std or 0.05))


@DATASETS.register("mixture")
def build_mixture(config: Any) -> GaussianMixture:
  """User-given `means`, `stds` (scalar or per mode, default 0.05), `weights` (default equal)."""
  means = config.means
  if not len(means):
    raise ConfigError("dataset 'mixture' needs dataset.means, a list of [x, y]")
  return GaussianMixture(
      "mixture", means, config.stds, config.weights if len(config.weights) else None
  )
