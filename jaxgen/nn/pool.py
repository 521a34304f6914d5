"""Pools as reshapes, slices and elementwise ops: the values of `flax.linen`'s pools,
which XLA CPU runs far faster than reduce-window and its select-and-scatter gradient."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np


def max_pool_2x2(x: jax.Array) -> jax.Array:
  """Max over 2x2 windows at stride 2 of NHWC `x` ('VALID': an odd last row or column is
  dropped). Equal to nn.max_pool(x, (2, 2), strides=(2, 2)) in value; its gradient reaches
  the same element when a window's maximum is unique (ties split it evenly)."""
  b, h, w, c = x.shape
  x = x[:, :h // 2 * 2, :w // 2 * 2]
  return x.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def _pad_hw(x: jax.Array, pad: int, value: float) -> jax.Array:
  return jax.lax.pad(x, jnp.asarray(value, x.dtype),
                     [(0, 0, 0), (pad, pad, 0), (pad, pad, 0), (0, 0, 0)])


def _window_slices(x: jax.Array, size: int, stride: int, out: tuple[int, int]):
  return [x[:, i:i + stride * (out[0] - 1) + 1:stride, j:j + stride * (out[1] - 1) + 1:stride]
          for i in range(size) for j in range(size)]


def max_pool_3x3(x: jax.Array, stride: int, pad: int = 0) -> jax.Array:
  """Max over 3x3 windows of NHWC `x` (padding with -inf), as an elementwise max of nine
  strided slices: the values of nn.max_pool(x, (3, 3), (stride,) * 2, ((pad, pad),) * 2),
  which XLA CPU computes as a slower reduce-window."""
  x = _pad_hw(x, pad, -jnp.inf) if pad else x
  out = ((x.shape[1] - 3) // stride + 1, (x.shape[2] - 3) // stride + 1)
  return functools.reduce(jnp.maximum, _window_slices(x, 3, stride, out))


def avg_pool_3x3_same(x: jax.Array) -> jax.Array:
  """Mean over the 3x3 window at stride 1 of NHWC `x`, padded by 1 but not counting the
  padding (TF's average pool): nn.avg_pool(x, (3, 3), padding=((1, 1), (1, 1)),
  count_include_pad=False) up to float rounding, as nine shifted adds."""
  h, w = x.shape[1:3]
  total = functools.reduce(jnp.add, _window_slices(_pad_hw(x, 1, 0.0), 3, 1, (h, w)))
  rows = np.minimum(np.arange(h) + 1, h - 1) - np.maximum(np.arange(h) - 1, 0) + 1
  cols = np.minimum(np.arange(w) + 1, w - 1) - np.maximum(np.arange(w) - 1, 0) + 1
  counts = (rows[:, None] * cols[None, :]).astype(np.float32)[None, :, :, None]
  return total / counts
