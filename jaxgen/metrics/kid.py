"""Kernel Inception Distance (Binkowski et al., 2018, "Demystifying MMD GANs").

KID is the unbiased estimate of MMD^2 under the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3, averaged over random equal-size subsets. This follows
torch-fidelity's `kid_features_to_metric` (subsets drawn without replacement by
`np.random.RandomState(seed)`, first from `features1`, then `features2`; std with
ddof=0), except that the subset size is capped by the smaller set as clean-fid does.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int,
                       gamma: float, coef0: float) -> np.ndarray:
  return (x @ y.T * gamma + coef0) ** degree


def polynomial_mmd2(x: ArrayLike, y: ArrayLike, degree: int = 3,
                    gamma: float | None = None, coef0: float = 1.0) -> float:
  """Unbiased MMD^2 between equal-size sets [m, D] under the polynomial kernel.

  The 'unbiased' estimator of Binkowski et al.'s `compute_scores.py`: within-set
  sums exclude the diagonal and are divided by m(m-1); the cross term keeps all
  m^2 pairs.
  """
  x = np.asarray(x, dtype=np.float64)
  y = np.asarray(y, dtype=np.float64)
  if x.ndim != 2 or x.shape != y.shape:
    raise ValueError(f"need two [m, D] arrays of equal shape, got {x.shape}, {y.shape}")
  m = x.shape[0]
  if m < 2:
    raise ValueError("need at least 2 samples per set")
  if gamma is None:
    gamma = 1.0 / x.shape[1]
  k_xx = _polynomial_kernel(x, x, degree, gamma, coef0)
  k_yy = _polynomial_kernel(y, y, degree, gamma, coef0)
  k_xy = _polynomial_kernel(x, y, degree, gamma, coef0)
  within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
  return float(within - 2.0 * k_xy.sum() / (m * m))


def kernel_inception_distance(features1: ArrayLike, features2: ArrayLike,
                              num_subsets: int = 100, subset_size: int = 1000,
                              seed: int = 0) -> tuple[float, float]:
  """Mean and std over `num_subsets` random subsets of the unbiased polynomial MMD^2."""
  f1 = np.asarray(features1, dtype=np.float64)
  f2 = np.asarray(features2, dtype=np.float64)
  if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
    raise ValueError(
        f"need [N, D] feature arrays with equal D, got {f1.shape}, {f2.shape}")
  if num_subsets < 1:
    raise ValueError("num_subsets must be positive")
  m = min(f1.shape[0], f2.shape[0], subset_size)
  if m < 2:
    raise ValueError("need at least 2 samples in each set")
  rng = np.random.RandomState(seed)
  mmds = np.empty(num_subsets)
  for i in range(num_subsets):
    x = f1[rng.choice(f1.shape[0], m, replace=False)]
    y = f2[rng.choice(f2.shape[0], m, replace=False)]
    mmds[i] = polynomial_mmd2(x, y)
  return float(mmds.mean()), float(mmds.std())
