"""Pruning masks: pytrees of booleans with the params' structure (True = weight kept).

Every leaf of the params has a mask leaf; leaves that are not prunable (biases, norm
scales, embeddings by default) keep an all-True mask and are left out of the counts.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.registry import Registry

Mask = Any  # a pytree of bool arrays shaped like the params
Path = tuple[str, ...]
Prunable = Callable[[Path, Any], bool]  # (leaf path, leaf) -> whether it may be pruned

PRUNABLE: Registry[Prunable] = Registry("pruning.prunable")


def key_name(key: Any) -> str:
  """The name of one step of a pytree key path (dict key, attribute or index)."""
  for attr in ("key", "name", "idx"):
    if hasattr(key, attr):
      return str(getattr(key, attr))
  return str(key)


def path_names(path: Sequence[Any]) -> Path:
  return tuple(key_name(k) for k in path)


def path_string(path: Path) -> str:
  return "/".join(path)


@PRUNABLE.register("kernels")
def kernels(path: Path, leaf: Any) -> bool:
  """Conv and dense kernels: leaves named 'kernel' with at least 2 dimensions."""
  return bool(path) and path[-1] == "kernel" and np.ndim(leaf) >= 2


@PRUNABLE.register("kernels_and_norms")
def kernels_and_norms(path: Path, leaf: Any) -> bool:
  """Kernels plus normalisation scales and biases, as the lottery-GAN reference code does."""
  is_norm = any(p.startswith(("BatchNorm", "LayerNorm", "GroupNorm")) for p in path)
  return kernels(path, leaf) or (is_norm and path[-1] in ("scale", "bias"))


def everything(path: Path, leaf: Any) -> bool:
  """Every leaf (for masks over non-params trees, e.g. channel masks)."""
  return True


def make_prunable(rule: str = "kernels", exclude: Sequence[str] = ()) -> Prunable:
  """A named rule (`PRUNABLE`) minus leaves whose '/'-joined path matches an `exclude` regex.

  E.g. exclude=('g/ConvTranspose_0',) keeps G's first layer dense, as the paper's code does.
  """
  base = PRUNABLE.get(rule)
  patterns = [re.compile(p) for p in exclude]

  def prunable(path: Path, leaf: Any) -> bool:
    name = path_string(path)
    return base(path, leaf) and not any(p.search(name) for p in patterns)

  return prunable


def named_leaves(tree: Any) -> list[tuple[Path, Any]]:
  """(path, leaf) pairs in the deterministic order of `jax.tree.flatten`."""
  return [(path_names(p), leaf) for p, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]]


def prunable_leaves(tree: Any, prunable: Prunable = kernels) -> list[tuple[Path, Any]]:
  return [(p, leaf) for p, leaf in named_leaves(tree) if prunable(p, leaf)]


def ones_like(params: Any) -> Mask:
  """The dense mask: every weight kept."""
  return jax.tree.map(lambda p: jnp.ones(jnp.shape(p), bool), params)


def apply_mask(tree: Any, mask: Mask) -> Any:
  """Zeroes the entries of `tree` where `mask` is False (NaN/Inf-safe, unlike a product)."""
  return jax.tree.map(lambda x, m: jnp.where(m, x, jnp.zeros_like(x)), tree, mask)


def counts(mask: Mask, prunable: Prunable = kernels) -> dict[str, tuple[int, int]]:
  """Per prunable layer: (weights kept, weights in the layer), keyed by '/'-joined path."""
  return {path_string(p): (int(np.sum(np.asarray(m))), int(np.size(m)))
          for p, m in prunable_leaves(mask, prunable)}


def num_kept(mask: Mask, prunable: Prunable = kernels) -> tuple[int, int]:
  """(weights kept, prunable weights) over all prunable leaves."""
  per_layer = counts(mask, prunable).values()
  return sum(k for k, _ in per_layer), sum(n for _, n in per_layer)


def sparsity(mask: Mask, prunable: Prunable = kernels) -> float:
  """The fraction of prunable weights that are pruned (0 = dense)."""
  kept, total = num_kept(mask, prunable)
  return 1.0 - kept / total if total else 0.0


def layer_sparsity(mask: Mask, prunable: Prunable = kernels) -> dict[str, float]:
  """The pruned fraction of each prunable layer, keyed by '/'-joined path."""
  return {name: 1.0 - kept / n for name, (kept, n) in counts(mask, prunable).items()}


def to_numpy(mask: Mask) -> dict[str, np.ndarray]:
  """A flat {path: bool array} dict of every leaf, e.g. for `np.savez`."""
  return {path_string(p): np.asarray(m, bool) for p, m in named_leaves(mask)}


def from_numpy(arrays: dict[str, np.ndarray], like: Any) -> Mask:
  """The inverse of `to_numpy`, shaped like the pytree `like`."""
  leaves = []
  for p, leaf in named_leaves(like):
    m = np.asarray(arrays[path_string(p)], bool)
    if m.shape != np.shape(leaf):
      raise ValueError(f"mask {path_string(p)!r} has shape {m.shape}, "
                       f"the params {np.shape(leaf)}")
    leaves.append(jnp.asarray(m))
  return jax.tree.unflatten(jax.tree.structure(like), leaves)
