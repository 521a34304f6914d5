"""BigGAN's orthogonal regularisation (Brock et al. 2019, sec. 3.1, eq. 3)."""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp

Include = Callable[[str, jax.Array], bool]


def is_kernel(path: str, leaf: jax.Array) -> bool:
  """Conv and dense kernels: leaves named 'kernel' of rank >= 2 (not embeddings,
  biases or norm scales)."""
  return path.split("/")[-1] == "kernel" and leaf.ndim >= 2


def orthogonal_penalty(kernel: jax.Array) -> jax.Array:
  """||W^T W * (1 - I)||_F^2 for W = kernel reshaped to [fan_in, features]."""
  w = jnp.asarray(kernel).reshape(-1, kernel.shape[-1])
  gram = w.T @ w
  off_diagonal = gram * (1.0 - jnp.eye(gram.shape[0], dtype=gram.dtype))
  return jnp.sum(off_diagonal ** 2)


def orthogonal_regularization(params: Any, include: Include = is_kernel) -> jax.Array:
  """Sum of `orthogonal_penalty` over the leaves of `params` selected by
  `include(path, leaf)` (path like 'GBlock_0/Conv_0/kernel'); the trainer adds it to
  the G loss with weight `loss.g_ortho_weight` (1e-4 in BigGAN)."""
  total = jnp.zeros((), jnp.float32)
  for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
    name = "/".join(str(getattr(k, "key", getattr(k, "name", k))) for k in path)
    if include(name, leaf):
      total = total + orthogonal_penalty(leaf)
  return total
