"""Inception Score (Salimans et al., 2016) from classifier probabilities."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def inception_score(probs: ArrayLike, splits: int = 10) -> tuple[float, float]:
  """Mean and std over splits of exp(E_x KL(p(y|x) || p(y))) for [N, K] probabilities.

  Matches openai/improved-gan's `get_inception_score`: split i is rows
  [i*N//splits, (i+1)*N//splits), p(y) is the split's mean prediction, and the
  std has ddof=0. Terms with p(y|x) = 0 contribute 0 (the reference gives nan).
  """
  p = np.asarray(probs, dtype=np.float64)
  if p.ndim != 2:
    raise ValueError(f"probs must be [N, num_classes], got shape {p.shape}")
  n = p.shape[0]
  if not 1 <= splits <= n:
    raise ValueError(f"splits must be in [1, {n}], got {splits}")
  if np.any(p < 0):
    raise ValueError("probabilities must be non-negative")
  scores = np.empty(splits)
  for i in range(splits):
    part = p[i * n // splits:(i + 1) * n // splits]
    py = part.mean(axis=0, keepdims=True)
    safe = part > 0
    terms = np.where(safe, part * (np.log(np.where(safe, part, 1.0))
                                   - np.log(np.where(safe, py, 1.0))), 0.0)
    scores[i] = np.exp(terms.sum(axis=1).mean())
  return float(scores.mean()), float(scores.std())
