"""k-NN manifold metrics: improved precision/recall and density/coverage.

Each point's manifold ball has radius equal to the distance to its k-th nearest
neighbour in its own set, the point itself excluded (a duplicate still counts).
Distances are Euclidean in float64 and computed in row blocks, so [N, M]
distance matrices never sit in memory whole.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from numpy.typing import ArrayLike

_BLOCK = 1024


def _as_features(features: ArrayLike, name: str) -> np.ndarray:
  x = np.asarray(features, dtype=np.float64)
  if x.ndim != 2:
    raise ValueError(f"{name} must be [num_samples, dim], got shape {x.shape}")
  return x


def _distance_blocks(a: np.ndarray, b: np.ndarray,
                     block_size: int) -> Iterator[tuple[int, np.ndarray]]:
  """Yields (start, D) with D[i, j] = |a[start + i] - b[j]| for row blocks of `a`."""
  b_sq = np.einsum("ij,ij->i", b, b)
  for start in range(0, a.shape[0], block_size):
    rows = a[start:start + block_size]
    rows_sq = np.einsum("ij,ij->i", rows, rows)
    sq = rows_sq[:, None] + b_sq[None, :] - 2.0 * (rows @ b.T)
    yield start, np.sqrt(np.maximum(sq, 0.0))


def knn_radii(features: ArrayLike, k: int, block_size: int = _BLOCK) -> np.ndarray:
  """Distance from each row of [N, D] `features` to its k-th nearest other row."""
  x = _as_features(features, "features")
  n = x.shape[0]
  if not 1 <= k < n:
    raise ValueError(f"k must be in [1, {n - 1}] for {n} points, got {k}")
  radii = np.empty(n)
  for start, dist in _distance_blocks(x, x, block_size):
    rows = np.arange(dist.shape[0])
    dist[rows, start + rows] = np.inf   # Exclude each point's distance to itself.
    radii[start:start + dist.shape[0]] = np.partition(dist, k - 1, axis=1)[:, k - 1]
  return radii


def precision_recall(real: ArrayLike, fake: ArrayLike, k: int = 3,
                     block_size: int = _BLOCK) -> dict[str, float]:
  """Improved precision and recall of Kynkäänniemi et al. (2019).

  precision = fraction of fake points inside some real point's k-NN ball;
  recall = fraction of real points inside some fake point's k-NN ball. Balls are
  closed (`<=`), as in StyleGAN2-ADA's `metrics/precision_recall.py`, whose radius
  `kthvalue(k + 1)` likewise skips the point itself.
  """
  real = _as_features(real, "real")
  fake = _as_features(fake, "fake")
  real_radii = knn_radii(real, k, block_size)
  fake_radii = knn_radii(fake, k, block_size)
  in_real = np.concatenate([
      (dist <= real_radii[None, :]).any(axis=1)
      for _, dist in _distance_blocks(fake, real, block_size)])
  in_fake = np.concatenate([
      (dist <= fake_radii[None, :]).any(axis=1)
      for _, dist in _distance_blocks(real, fake, block_size)])
  return {"precision": float(in_real.mean()), "recall": float(in_fake.mean())}


def density_coverage(real: ArrayLike, fake: ArrayLike, k: int = 5,
                     block_size: int = _BLOCK) -> dict[str, float]:
  """Density and coverage of Naeem et al. (2020), as in their `prdc` package.

  density = (1 / (k M)) sum_j #{i : |fake_j - real_i| < r_i};
  coverage = fraction of real points i whose nearest fake point is closer than r_i.
  Only real-point balls are used, and they are open (`<`), matching `prdc`.
  """
  real = _as_features(real, "real")
  fake = _as_features(fake, "fake")
  real_radii = knn_radii(real, k, block_size)
  balls_containing = np.zeros(fake.shape[0])
  covered = np.empty(real.shape[0], dtype=bool)
  for start, dist in _distance_blocks(real, fake, block_size):
    rows_radii = real_radii[start:start + dist.shape[0], None]
    balls_containing += (dist < rows_radii).sum(axis=0)
    covered[start:start + dist.shape[0]] = dist.min(axis=1) < rows_radii[:, 0]
  return {"density": float(balls_containing.mean() / k),
          "coverage": float(covered.mean())}
