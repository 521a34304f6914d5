"""Convolutions lowered to patches + matmul, for CPUs where XLA's own conv is slow.

Every conv here reduces to a stride-1 'valid' correlation y[o] = sum_k xp[o + k] @ w[k]
(strided convs by space-to-depth, transposed convs as the adjoint of a strided conv).
The correlation and its adjoint are `jax.custom_vjp` primitives whose three products
(output, input gradient, kernel gradient) each use one of two lowerings:

* gather: materialise shifted copies of the input side, then one matmul (im2col);
* scatter: one matmul against all kernel taps at once, then shift-and-add (col2im).

Which is cheaper depends on the channel counts and map sizes. Plain autodiff of
either form measured up to 2x slower (fwd + bwd): its transposes give full-size pads
per kernel tap and badly oriented matmuls.
Inputs are channels-last with one batch axis, kernels (*window, in, out).
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
from jax import lax

Array = jax.Array
Pads = Sequence[tuple[int, int]]

# Copying one element costs about as much as _ALPHA multiply-adds (fitted to timings
# on a 2-core AVX-512 CPU; anything in 96..512 chose equally well).
_ALPHA = 256


def _taps(window: Sequence[int]) -> list[tuple[int, ...]]:
  return list(itertools.product(*(range(k) for k in window)))


def _window(x: Array, start: Sequence[int], size: Sequence[int],
            strides: Sequence[int] | None = None) -> Array:
  strides = strides or (1,) * len(start)
  idx = tuple(slice(a, a + s * (n - 1) + 1, s) for a, n, s in zip(start, size, strides))
  return x[(slice(None),) + idx + (slice(None),)]


def _pad_spatial(x: Array, pads: Pads) -> Array:
  """Zero-pads (or, for negative amounts, crops) the spatial axes of x."""
  if all(lo == 0 and hi == 0 for lo, hi in pads):
    return x
  config = [(0, 0, 0)] + [(lo, hi, 0) for lo, hi in pads] + [(0, 0, 0)]
  return lax.pad(x, jnp.zeros((), x.dtype), config)


def _im2col(x: Array, window: Sequence[int], out: Sequence[int],
            strides: Sequence[int] | None = None) -> Array:
  """[B, *in, C] -> [B, *out, prod(window) * C], tap-major like a reshaped kernel."""
  cols = [_window(x, t, out, strides) for t in _taps(window)]
  if len(cols) == 1:
    return cols[0]
  # stack + reshape fuses into one copy loop; concatenate costs a copy per tap.
  return jnp.stack(cols, -2).reshape(cols[0].shape[:-1] + (-1,))


def _sum(xs: list[Array]) -> Array:
  return functools.reduce(lambda a, b: a + b, xs)


def _flip_swap(w: Array) -> Array:
  """Reverses the window and swaps in/out channels: the kernel of the adjoint conv."""
  return jnp.flip(w, tuple(range(w.ndim - 2))).swapaxes(-1, -2)


def _dot(a: Array, b: Array, precision: Any) -> Array:
  return jnp.dot(a, b, precision=precision)


def _contract_rows(a: Array, b: Array, precision: Any) -> Array:
  """a^T @ b for 2-D a, b (contracting the long row axis), oriented for XLA:CPU.

  Such products run ~2x faster when the result has fewer rows than columns; the
  barrier stops XLA from folding the final transpose back into the slow form.
  """
  dims = (((0,), (0,)), ((), ()))
  if a.shape[1] <= b.shape[1]:
    return lax.dot_general(a, b, dims, precision=precision)
  return lax.optimization_barrier(lax.dot_general(b, a, dims, precision=precision)).T


# --- The three products of y = corr(xp, w), each in gather and scatter form. -----


def _corr_gather(xp: Array, w: Array, precision: Any) -> Array:
  window = w.shape[:-2]
  out = tuple(n - k + 1 for n, k in zip(xp.shape[1:-1], window))
  return _dot(_im2col(xp, window, out), w.reshape(-1, w.shape[-1]), precision)


def _corr_scatter(xp: Array, w: Array, precision: Any) -> Array:
  window, (c, f) = w.shape[:-2], w.shape[-2:]
  out = tuple(n - k + 1 for n, k in zip(xp.shape[1:-1], window))
  u = _dot(xp, jnp.moveaxis(w, -2, 0).reshape(c, -1), precision)
  parts = lax.split(u, [f] * math.prod(window), axis=u.ndim - 1)
  return _sum([_window(p, t, out) for p, t in zip(parts, _taps(window))])


def _corr_t_scatter(dy: Array, w: Array, precision: Any) -> Array:
  """dxp[m] = sum_k w[k] @ dy[m - k]: per-tap matmul, then shifted adds."""
  window, (c, f) = w.shape[:-2], w.shape[-2:]
  v = _dot(dy, w.reshape(-1, f).T, precision)
  parts = lax.split(v, [c] * math.prod(window), axis=v.ndim - 1)
  return _sum([_pad_spatial(p, [(a, k - 1 - a) for a, k in zip(t, window)])
               for p, t in zip(parts, _taps(window))])


def _corr_t_gather(dy: Array, w: Array, precision: Any) -> Array:
  window = w.shape[:-2]
  dyp = _pad_spatial(dy, [(k - 1, k - 1) for k in window])
  return _corr_gather(dyp, _flip_swap(w), precision)


def _corr_w_gather(xp: Array, dy: Array, window: Sequence[int], precision: Any) -> Array:
  """dw[k] = sum_o xp[o + k]^T dy[o], materialising patches of xp."""
  c, f = xp.shape[-1], dy.shape[-1]
  patches = _im2col(xp, window, dy.shape[1:-1]).reshape(-1, math.prod(window) * c)
  dw = _contract_rows(patches, dy.reshape(-1, f), precision)
  return dw.reshape(tuple(window) + (c, f))


def _corr_w_scatter(xp: Array, dy: Array, window: Sequence[int], precision: Any) -> Array:
  """Same product, materialising patches of the (padded) output gradient instead."""
  c, f = xp.shape[-1], dy.shape[-1]
  dyp = _pad_spatial(dy, [(k - 1, k - 1) for k in window])
  patches = _im2col(dyp, window, xp.shape[1:-1]).reshape(-1, math.prod(window) * f)
  dw = _contract_rows(xp.reshape(-1, c), patches, precision)   # [C, taps * F]
  dw = jnp.moveaxis(dw.reshape((c,) + tuple(window) + (f,)), 0, -2)
  # Patch tap j of the padded gradient pairs with kernel tap (window - 1 - j).
  return jnp.flip(dw, tuple(range(len(window))))


# The correlation maps xp [B, *X, C] to y [B, *O, F] (O = X - window + 1). Each of
# its three products copies either C-side data (O positions x taps x C: patches of
# xp, or the y-gradient times the kernel) or F-side data (X positions x taps x F:
# xp times the kernel, or patches of the padded y-gradient). All three take the same
# side, so the two backward products share one copy. Fitted to fwd + bwd timings.


def _copy_c_side(xp_shape: Sequence[int], y_shape: Sequence[int]) -> bool:
  """Whether copying C-side data is cheaper: flops + _ALPHA * copied elements."""
  o, x = math.prod(y_shape[1:-1]), math.prod(xp_shape[1:-1])
  c, f = xp_shape[-1], y_shape[-1]
  return o * c * (f + _ALPHA) <= x * f * (c + _ALPHA)


# --- custom_vjp primitives: the correlation and its adjoint. ----------------------


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _corr(xp: Array, w: Array, precision: Any, c_side: bool) -> Array:
  if c_side:
    return _corr_gather(xp, w, precision)
  return _corr_scatter(xp, w, precision)


def _corr_fwd(xp, w, precision, c_side):
  return _corr(xp, w, precision, c_side), (xp, w)


def _corr_bwd(precision, c_side, res, g):
  xp, w = res
  corr_w = _corr_w_gather if c_side else _corr_w_scatter
  return _corr_t(g, w, precision, c_side), corr_w(xp, g, w.shape[:-2], precision)


_corr.defvjp(_corr_fwd, _corr_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _corr_t(dy: Array, w: Array, precision: Any, c_side: bool) -> Array:
  if c_side:
    return _corr_t_scatter(dy, w, precision)
  return _corr_t_gather(dy, w, precision)


def _corr_t_fwd(dy, w, precision, c_side):
  return _corr_t(dy, w, precision, c_side), (dy, w)


def _corr_t_bwd(precision, c_side, res, g):
  dy, w = res
  corr_w = _corr_w_gather if c_side else _corr_w_scatter
  return _corr(g, w, precision, c_side), corr_w(g, dy, w.shape[:-2], precision)


_corr_t.defvjp(_corr_t_fwd, _corr_t_bwd)


def _correlate(xp: Array, w: Array, precision: Any) -> Array:
  """The stride-1 valid correlation, lowered by the cheaper side."""
  out = tuple(n - k + 1 for n, k in zip(xp.shape[1:-1], w.shape[:-2]))
  y_shape = xp.shape[:1] + out + w.shape[-1:]
  return _corr(xp, w, precision, _copy_c_side(xp.shape, y_shape))


def _correlate_adjoint(dy: Array, w: Array, precision: Any) -> Array:
  """The adjoint of `_correlate` w.r.t. xp, lowered by the cheaper side."""
  size = tuple(o + k - 1 for o, k in zip(dy.shape[1:-1], w.shape[:-2]))
  xp_shape = dy.shape[:1] + size + w.shape[-2:-1]
  return _corr_t(dy, w, precision, _copy_c_side(xp_shape, dy.shape))


# --- Strided convs via space-to-depth. -------------------------------------------


def _space_to_depth(x: Array, block: Sequence[int]) -> Array:
  """[B, *(n_i * b_i), C] -> [B, *n_i, prod(b) * C], block offsets major, C minor."""
  nd, batch, c = len(block), x.shape[0], x.shape[-1]
  dims = sum(((n // b, b) for n, b in zip(x.shape[1:-1], block)), ())
  perm = (0,) + tuple(range(1, 2 * nd, 2)) + tuple(range(2, 2 * nd + 1, 2)) + (2 * nd + 1,)
  x = x.reshape((batch,) + dims + (c,)).transpose(perm)
  return x.reshape(x.shape[:nd + 1] + (-1,))


def _depth_to_space(x: Array, block: Sequence[int]) -> Array:
  """Inverse of `_space_to_depth`."""
  nd, batch, spatial = len(block), x.shape[0], x.shape[1:-1]
  x = x.reshape((batch,) + spatial + tuple(block) + (-1,))
  perm = (0,) + sum(((1 + i, 1 + nd + i) for i in range(nd)), ()) + (2 * nd + 1,)
  return x.transpose(perm).reshape(
      (batch,) + tuple(n * b for n, b in zip(spatial, block)) + (-1,))


def _kernel_to_depth(w: Array, block: Sequence[int]) -> Array:
  """The kernel acting on `_space_to_depth` input: window k_i -> k_i / b_i."""
  nd, (c, f) = len(block), w.shape[-2:]
  dims = sum(((k // b, b) for k, b in zip(w.shape[:nd], block)), ())
  perm = tuple(range(0, 2 * nd, 2)) + tuple(range(1, 2 * nd, 2)) + (2 * nd, 2 * nd + 1)
  w = w.reshape(dims + (c, f)).transpose(perm)
  return w.reshape(w.shape[:nd] + (-1, f))


def _round_window(w: Array, strides: Sequence[int]) -> Array:
  """Zero-extends the window at the end to a multiple of the stride."""
  nd = len(strides)
  extra = [-k % s for k, s in zip(w.shape[:nd], strides)]
  if not any(extra):
    return w
  return jnp.pad(w, [(0, e) for e in extra] + [(0, 0), (0, 0)])


def conv_matmul(x: Array, kernel: Array, strides: Sequence[int], pads: Pads,
                precision: Any = None) -> Array:
  """`lax.conv_general_dilated` (NHWC / HWIO, explicit pads) via patches + matmul."""
  nd = len(strides)
  window = kernel.shape[:nd]
  out = [(n + lo + hi - k) // s + 1
         for n, (lo, hi), k, s in zip(x.shape[1:-1], pads, window, strides)]
  if min(out) <= 0:
    return jnp.zeros((x.shape[0],) + tuple(max(o, 0) for o in out) + kernel.shape[-1:],
                     jnp.result_type(x, kernel))
  if all(k == 1 for k in window):
    # 1x1 conv: subsample, then a plain matmul (no patches, no zero taps).
    xp = _pad_spatial(x, [(lo, s * (o - 1) + 1 - n - lo)
                          for (lo, _), s, o, n in zip(pads, strides, out, x.shape[1:-1])])
    xs = xp[(slice(None),) + tuple(slice(None, None, s) for s in strides)]
    return _dot(xs, kernel.reshape(kernel.shape[-2:]), precision)
  kernel = _round_window(kernel, strides)
  # Pad (or crop) to exactly the extent the output reads, a multiple of the stride.
  extent = [s * (o - 1) + k for s, o, k in zip(strides, out, kernel.shape[:nd])]
  xp = _pad_spatial(x, [(lo, e - n - lo)
                        for (lo, _), e, n in zip(pads, extent, x.shape[1:-1])])
  if any(s > 1 for s in strides):
    xp, kernel = _space_to_depth(xp, strides), _kernel_to_depth(kernel, strides)
  return _correlate(xp, kernel, precision)


def conv_transpose_matmul(x: Array, kernel: Array, strides: Sequence[int], pads: Pads,
                          precision: Any = None) -> Array:
  """`lax.conv_transpose(x, kernel, strides, pads)` (explicit pads, no kernel flip).

  That is a stride-1 conv of the stride-dilated x; computed as the adjoint of a
  strided conv with the flipped kernel, so the dilation zeros are never multiplied.
  """
  nd = len(strides)
  window, n_in = kernel.shape[:nd], x.shape[1:-1]
  out = [s * (n - 1) + 1 + lo + hi - k + 1
         for s, n, (lo, hi), k in zip(strides, n_in, pads, window)]
  if min(out) <= 0:
    return jnp.zeros((x.shape[0],) + tuple(max(o, 0) for o in out) + kernel.shape[-1:],
                     jnp.result_type(x, kernel))
  adjoint_kernel = _round_window(_flip_swap(kernel), strides)
  extent = [s * (n - 1) + k for s, n, k in zip(strides, n_in, adjoint_kernel.shape[:nd])]
  if any(s > 1 for s in strides):
    y = _depth_to_space(
        _correlate_adjoint(x, _kernel_to_depth(adjoint_kernel, strides), precision),
        strides)
  else:
    y = _correlate_adjoint(x, adjoint_kernel, precision)
  # The adjoint conv pads its input by k - 1 - lo in front; undo that (and the tail).
  front = [k - 1 - lo for k, (lo, _) in zip(window, pads)]
  return _pad_spatial(y, [(-p, o + p - e) for p, o, e in zip(front, out, extent)])


# --- Strided convs for inference. -------------------------------------------------


def conv_strided_patches(x: Array, kernel: Array, strides: Sequence[int], pads: Pads,
                         precision: Any = None) -> Array:
  """A strided conv as im2col over strided taps + one matmul, with plain autodiff.

  For inference: unlike `conv_matmul`'s space-to-depth, no zero taps are multiplied
  (a 3x3 stride-2 kernel would become 4x4, 16/9 the flops).
  """
  window = kernel.shape[:-2]
  xp = _pad_spatial(x, pads)
  out = [(n - k) // s + 1 for n, k, s in zip(xp.shape[1:-1], window, strides)]
  return _dot(_im2col(xp, window, out, strides), kernel.reshape(-1, kernel.shape[-1]),
              precision)
