"""Fréchet distance of Gaussians fitted to features (FID), with streaming statistics.

The distance matches pytorch-fid's `calculate_frechet_distance` (itself from
bioinf-jku/TTUR): d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^{1/2}),
evaluated in float64 with `scipy.linalg.sqrtm`.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike,
                     sigma2: ArrayLike, eps: float = 1e-6) -> float:
  """Squared Fréchet distance of N(mu1, sigma1) and N(mu2, sigma2), like pytorch-fid."""
  mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
  mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
  sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
  sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
  if mu1.shape != mu2.shape:
    raise ValueError(f"mean shapes differ: {mu1.shape} vs {mu2.shape}")
  if sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
    raise ValueError(f"covariance shapes {sigma1.shape}, {sigma2.shape} do not "
                     f"match mean shape {mu1.shape}")

  diff = mu1 - mu2
  # The product may be (nearly) singular, e.g. with fewer samples than dims.
  covmean = linalg.sqrtm(sigma1 @ sigma2)
  if not np.isfinite(covmean).all():
    warnings.warn(f"Fréchet distance: singular product; adding {eps} to the "
                  "diagonal of both covariances", RuntimeWarning, stacklevel=2)
    offset = np.eye(sigma1.shape[0]) * eps
    covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
  # Round-off can leave a small imaginary part; pytorch-fid's tolerance is 1e-3.
  if np.iscomplexobj(covmean):
    if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
      raise ValueError(
          f"imaginary component {np.max(np.abs(covmean.imag))} in sqrtm(S1 S2)")
    covmean = covmean.real
  return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2)
               - 2.0 * np.trace(covmean))


def _as_features(features: ArrayLike) -> np.ndarray:
  x = np.asarray(features, dtype=np.float64)
  if x.ndim != 2:
    raise ValueError(f"features must be [num_samples, dim], got shape {x.shape}")
  return x


def statistics(features: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
  """Float64 mean and covariance (ddof=1, as np.cov(rowvar=False)) of [N, D] data."""
  x = _as_features(features)
  if x.shape[0] < 2:
    raise ValueError("need at least 2 samples for a covariance")
  return x.mean(axis=0), np.cov(x, rowvar=False)


@dataclasses.dataclass(frozen=True, eq=False)
class GaussianStats:
  """Running float64 mean and scatter of features, so they need not fit in memory.

  Immutable: `update` returns a new accumulator. Batches are merged with the
  pairwise update of Chan, Golub & LeVeque (1979), which stays accurate when
  the mean is large relative to the spread (unlike sum / sum-of-squares).
  """

  count: int = 0
  running_mean: np.ndarray | None = None   # [D]
  scatter: np.ndarray | None = None        # [D, D], sum of (x - mean)(x - mean)^T

  @classmethod
  def from_features(cls, features: ArrayLike) -> GaussianStats:
    """Statistics of a single [N, D] array."""
    x = _as_features(features)
    if x.shape[0] == 0:
      return cls()
    mean = x.mean(axis=0)
    centered = x - mean
    return cls(count=x.shape[0], running_mean=mean, scatter=centered.T @ centered)

  def update(self, features: ArrayLike) -> GaussianStats:
    """Returns the statistics with an [B, D] batch added."""
    return self.merge(GaussianStats.from_features(features))

  def merge(self, other: GaussianStats) -> GaussianStats:
    """Statistics of the union of both sample sets (e.g. across hosts)."""
    if other.count == 0:
      return self
    if self.count == 0:
      return other
    if self.running_mean.shape != other.running_mean.shape:
      raise ValueError(f"feature dims differ: {self.running_mean.shape} vs "
                       f"{other.running_mean.shape}")
    n = self.count + other.count
    delta = other.running_mean - self.running_mean
    mean = self.running_mean + delta * (other.count / n)
    scatter = (self.scatter + other.scatter
               + np.outer(delta, delta) * (self.count * other.count / n))
    return GaussianStats(count=n, running_mean=mean, scatter=scatter)

  def mean(self) -> np.ndarray:
    if self.count == 0:
      raise ValueError("no samples accumulated")
    return self.running_mean.copy()

  def covariance(self, ddof: int = 1) -> np.ndarray:
    if self.count <= ddof:
      raise ValueError(f"need more than {ddof} samples, have {self.count}")
    return self.scatter / (self.count - ddof)


def fid_from_features(features1: ArrayLike, features2: ArrayLike,
                      eps: float = 1e-6) -> float:
  """Fréchet distance between Gaussians fitted to two [N, D] feature arrays."""
  mu1, sigma1 = statistics(features1)
  mu2, sigma2 = statistics(features2)
  return frechet_distance(mu1, sigma1, mu2, sigma2, eps=eps)
