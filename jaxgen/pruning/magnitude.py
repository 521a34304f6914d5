"""Score-based pruning with exact counts; magnitude pruning is the score |w|.

Pruning never regrows a weight: already-pruned entries rank first, then the lowest
scores, ties broken by position (leaf order of `jax.tree.flatten`, then row-major), so a
mask is a deterministic function of the scores. Works under `jit`/`vmap` (the counts
depend only on shapes and the static target sparsity).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.pruning.masks import Mask, Prunable, kernels, named_leaves, path_string


def sparsity_after(rounds: int, fraction: float = 0.2) -> float:
  """Sparsity after `rounds` rounds that each prune `fraction` of the remaining weights."""
  return 1.0 - (1.0 - fraction) ** rounds


def num_to_prune(size: int, sparsity: float) -> int:
  """Weights pruned in a group of `size` at `sparsity`: the nearest whole number."""
  return int(np.floor(sparsity * size + 0.5))


def _check_sparsity(sparsity: float) -> None:
  if not 0.0 <= sparsity <= 1.0:
    raise ValueError(f"pruning sparsity must lie in [0, 1], got {sparsity}")


@functools.partial(jax.jit, static_argnums=2)
def _prune_lowest(scores: jax.Array, keep: jax.Array, n: int) -> jax.Array:
  ranked = jnp.where(keep, scores, -jnp.inf)
  order = jnp.argsort(ranked, stable=True)
  return jnp.ones(ranked.shape, bool).at[order[:n]].set(False) & keep


def prune_lowest(scores: jax.Array, keep: jax.Array, n: int,
                 name: str = "the mask") -> jax.Array:
  """Flat keep-flags with exactly `n` entries pruned: those pruned already, then the lowest."""
  if not isinstance(keep, jax.core.Tracer):
    already = int(np.size(keep) - np.sum(np.asarray(keep)))
    if already > n:
      raise ValueError(f"{name} already has {already} pruned weights, more than the "
                       f"{n} the requested sparsity allows; pruning never regrows weights")
  return _prune_lowest(scores, keep, n)


def prune_by_score(scores: Any, mask: Mask, sparsity: float, *, layerwise: bool = False,
                   prunable: Prunable = kernels) -> Mask:
  """The mask with exactly round(sparsity * n) of the prunable weights pruned, lowest scores first.

  Global (default): all prunable weights ranked together, n = their count. Layer-wise:
  each prunable leaf reaches `sparsity` on its own.
  """
  _check_sparsity(sparsity)
  pairs = named_leaves(mask)
  score_leaves = jax.tree.leaves(scores)
  if len(score_leaves) != len(pairs):
    raise ValueError("pruning scores and mask have different structures")
  chosen = [i for i, (p, m) in enumerate(pairs) if prunable(p, m)]
  new = [m for _, m in pairs]
  if layerwise:
    for i in chosen:
      p, m = pairs[i]
      keep = prune_lowest(score_leaves[i].ravel(), jnp.asarray(m).ravel(),
                           num_to_prune(np.size(m), sparsity), path_string(p))
      new[i] = keep.reshape(np.shape(m))
  elif chosen:
    flat_keep = jnp.concatenate([jnp.asarray(pairs[i][1]).ravel() for i in chosen])
    flat_scores = jnp.concatenate([jnp.ravel(score_leaves[i]) for i in chosen])
    keep = prune_lowest(flat_scores, flat_keep, num_to_prune(flat_keep.size, sparsity),
                         "the mask")
    offset = 0
    for i in chosen:
      shape = np.shape(pairs[i][1])
      size = int(np.prod(shape))
      new[i] = keep[offset:offset + size].reshape(shape)
      offset += size
  return jax.tree.unflatten(jax.tree.structure(mask), new)


def magnitude_prune(params: Any, mask: Mask, sparsity: float, *, layerwise: bool = False,
                    prunable: Prunable = kernels) -> Mask:
  """Prunes the smallest-magnitude weights until `sparsity` (global by default, as in the paper)."""
  return prune_by_score(jax.tree.map(jnp.abs, params), mask, sparsity,
                        layerwise=layerwise, prunable=prunable)


def prune_remaining(params: Any, mask: Mask, fraction: float = 0.2, *,
                    layerwise: bool = False, prunable: Prunable = kernels) -> Mask:
  """One IMP round: prunes round(fraction * remaining) more of the smallest weights.

  Rounding compounds over rounds; to hit round(n * (1 - 0.8^k)) exactly at round k, call
  `magnitude_prune(params, mask, sparsity_after(k))` instead (the IMP driver does).
  """
  _check_sparsity(fraction)
  groups = [(p, m) for p, m in named_leaves(mask) if prunable(p, m)]
  if not layerwise:
    kept = sum(int(np.sum(np.asarray(m))) for _, m in groups)
    total = sum(int(np.size(m)) for _, m in groups)
    pruned = total - kept + num_to_prune(kept, fraction)
    return magnitude_prune(params, mask, pruned / total if total else 0.0,
                           prunable=prunable)
  new = mask
  for p, m in groups:  # one leaf at a time, each at its own target count
    kept, size = int(np.sum(np.asarray(m))), int(np.size(m))
    target = (size - kept + num_to_prune(kept, fraction)) / size
    only = lambda q, leaf, p=p: q == p
    new = magnitude_prune(params, new, target, layerwise=True, prunable=only)
  return new
