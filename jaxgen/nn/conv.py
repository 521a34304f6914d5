"""Drop-in `Conv` / `ConvTranspose` for flax.linen with a choice of lowering.

Same function, parameter names, shapes and initialisation as `flax.linen.Conv` and
`flax.linen.ConvTranspose`, plus `impl`: 'xla' calls lax's conv (what flax does),
'matmul' lowers to patches + matmul (see `matmul_conv`), which on CPU avoids XLA's
slow convs (10-100x on a transposed conv's kernel gradient), and 'auto' picks
'matmul' on CPU and 'xla' elsewhere. impl='matmul' supports reverse-mode autodiff
(any order) but not forward-mode (`jax.jvp`); use impl='xla' for that.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
from flax.linen.dtypes import promote_dtype
import jax
import jax.numpy as jnp
from jax import lax
import numpy as np

from jaxgen.errors import ConfigError
from jaxgen.nn.matmul_conv import conv_matmul, conv_transpose_matmul

Array = jax.Array
PaddingLike = str | int | Sequence[int | tuple[int, int]]

IMPLS = ("auto", "matmul", "xla")


def check_impl(impl: str) -> str:
  """Returns `impl` if it names a conv lowering, else raises a one-line ValueError."""
  if impl not in IMPLS:
    raise ConfigError(f"unknown model.conv_impl {impl!r}; choose one of: {', '.join(IMPLS)}")
  return impl


def resolve_impl(impl: str, window: Sequence[int] = (),
                 strides: Sequence[int] = ()) -> str:
  """Maps 'auto' to the faster lowering for the default backend: 'matmul' on CPU.

  XLA's CPU conv is competitive for a single stride-1 3x3 conv, but inside the
  `lax.scan` the train loop runs it measured ~45x slower (ResNet 32x32 step: 67 s vs
  1.4 s), so 'auto' uses matmuls for every CPU conv; `window` and `strides` are kept
  for backends where the choice depends on the layer.
  """
  del window, strides
  if check_impl(impl) != "auto":
    return impl
  return "xla" if jax.default_backend() != "cpu" else "matmul"


def _dimension_numbers(ndim: int) -> lax.ConvDimensionNumbers:
  # Channels-last input/output, (*window, in, out) kernel: flax's layout.
  lhs = (0, ndim - 1) + tuple(range(1, ndim - 1))
  rhs = (ndim - 1, ndim - 2) + tuple(range(0, ndim - 2))
  return lax.ConvDimensionNumbers(lhs, rhs, lhs)


def _explicit_pads(padding: str | Sequence[tuple[int, int]], in_spatial: Sequence[int],
                   window: Sequence[int], strides: Sequence[int]) -> list[tuple[int, int]]:
  if isinstance(padding, str):
    return [tuple(p) for p in lax.padtype_to_pads(in_spatial, window, strides, padding)]
  return [(int(lo), int(hi)) for lo, hi in padding]


def _transpose_pads(padding: str | Sequence[tuple[int, int]], window: Sequence[int],
                    strides: Sequence[int]) -> list[tuple[int, int]]:
  """Pads of the dilated input that `lax.conv_transpose` uses for `padding`."""
  if not isinstance(padding, str):
    return [(int(lo), int(hi)) for lo, hi in padding]
  pads = []
  for k, s in zip(window, strides):
    if padding == "SAME":
      total = k + s - 2
      lo = k - 1 if s > k - 1 else int(np.ceil(total / 2))
    elif padding == "VALID":
      total, lo = k + s - 2 + max(k - s, 0), k - 1
    else:
      raise ValueError(f"invalid padding {padding!r}; expected 'SAME', 'VALID' or pairs")
    pads.append((lo, total - lo))
  return pads


def conv(x: Array, kernel: Array, strides: Sequence[int],
         padding: str | Sequence[tuple[int, int]], *, impl: str = "auto",
         precision: Any = None) -> Array:
  """Convolution of x [N, *spatial, C] with kernel [*window, C, F] -> [N, *out, F].

  Same result as `lax.conv_general_dilated` with flax's dimension numbers;
  `padding` is 'SAME', 'VALID' or one (low, high) pair per spatial axis.
  """
  strides = tuple(strides)
  if resolve_impl(impl, kernel.shape[:-2], strides) == "xla":
    nd = len(strides)
    return lax.conv_general_dilated(
        x, kernel, strides, padding, lhs_dilation=(1,) * nd, rhs_dilation=(1,) * nd,
        dimension_numbers=_dimension_numbers(x.ndim), precision=precision)
  pads = _explicit_pads(padding, x.shape[1:-1], kernel.shape[:-2], strides)
  return conv_matmul(x, kernel, strides, pads, precision)


def conv_transpose(x: Array, kernel: Array, strides: Sequence[int],
                   padding: str | Sequence[tuple[int, int]], *,
                   transpose_kernel: bool = False, impl: str = "auto",
                   precision: Any = None) -> Array:
  """Transposed convolution with the semantics of `lax.conv_transpose` (channels last).

  kernel is [*window, C, F], or [*window, F, C] with `transpose_kernel` (the gradient
  of a conv with that kernel, PyTorch-style).
  """
  strides = tuple(strides)
  if resolve_impl(impl) == "xla":
    return lax.conv_transpose(x, kernel, strides, padding,
                              dimension_numbers=_dimension_numbers(x.ndim),
                              transpose_kernel=transpose_kernel, precision=precision)
  pads = _transpose_pads(padding, kernel.shape[:-2], strides)
  if transpose_kernel:
    kernel = jnp.flip(kernel, tuple(range(kernel.ndim - 2))).swapaxes(-1, -2)
  return conv_transpose_matmul(x, kernel, strides, pads, precision)


def _canonical_padding(padding: PaddingLike, rank: int) -> str | list[tuple[int, int]]:
  """flax's `canonicalize_padding`: a string, or one (low, high) pair per axis."""
  if isinstance(padding, str):
    return padding
  if isinstance(padding, int):
    return [(padding, padding)] * rank
  if isinstance(padding, Sequence) and len(padding) == rank:
    pairs = [(p, p) if isinstance(p, int) else tuple(p) for p in padding]
    if all(len(p) == 2 for p in pairs):
      return pairs
  raise ValueError(f"invalid padding {padding!r}: expected a string, an int, or a "
                   f"sequence of {rank} ints or (low, high) pairs")


def _tuple(x: None | int | Sequence[int], rank: int) -> tuple[int, ...]:
  if x is None:
    return (1,) * rank
  return (x,) * rank if isinstance(x, int) else tuple(x)


def _flatten_batch(inputs: Array, rank: int) -> tuple[Array, tuple[int, ...] | None]:
  """Merges all leading batch axes into one (adding one if absent), like flax."""
  num_batch = inputs.ndim - (rank + 1)
  if num_batch == 1:
    return inputs, None
  return inputs.reshape((-1,) + inputs.shape[num_batch:]), inputs.shape[:num_batch]


def _restore_batch(y: Array, batch_shape: tuple[int, ...] | None) -> Array:
  return y if batch_shape is None else y.reshape(batch_shape + y.shape[1:])


class Conv(nn.Module):
  """`flax.linen.Conv` (no dilation or groups) with a selectable lowering `impl`.

  Attributes match flax's; padding is 'SAME', 'VALID', 'CIRCULAR', 'REFLECT',
  'CAUSAL' (1-D), an int, or per-axis ints / (low, high) pairs.
  impl: 'auto' | 'matmul' | 'xla'.
  """
  features: int
  kernel_size: int | Sequence[int]
  strides: None | int | Sequence[int] = 1
  padding: PaddingLike = "SAME"
  use_bias: bool = True
  dtype: Any = None
  param_dtype: Any = jnp.float32
  precision: Any = None
  kernel_init: Any = nn.initializers.lecun_normal()
  bias_init: Any = nn.initializers.zeros_init()
  impl: str = "auto"

  @nn.compact
  def __call__(self, inputs: Array) -> Array:
    check_impl(self.impl)
    window = ((self.kernel_size,) if isinstance(self.kernel_size, int)
              else tuple(self.kernel_size))
    rank = len(window)
    inputs, batch_shape = _flatten_batch(inputs, rank)
    padding = _canonical_padding(self.padding, rank)
    if padding in ("CIRCULAR", "REFLECT"):
      pads = [(0, 0)] + [((k - 1) // 2, k // 2) for k in window] + [(0, 0)]
      inputs = jnp.pad(inputs, pads, mode="wrap" if padding == "CIRCULAR" else "reflect")
      padding = "VALID"
    elif padding == "CAUSAL":
      if rank != 1:
        raise ValueError("Causal padding is only implemented for 1D convolutions.")
      inputs = jnp.pad(inputs, [(0, 0), (window[0] - 1, 0), (0, 0)])
      padding = "VALID"

    kernel = self.param("kernel", self.kernel_init,
                        window + (inputs.shape[-1], self.features), self.param_dtype)
    bias = (self.param("bias", self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias else None)
    inputs, kernel, bias = promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    y = conv(inputs, kernel, _tuple(self.strides, rank), padding, impl=self.impl,
             precision=self.precision)
    if bias is not None:
      y += bias.reshape((1,) * (y.ndim - 1) + (-1,))
    return _restore_batch(y, batch_shape)


class ConvTranspose(nn.Module):
  """`flax.linen.ConvTranspose` (no dilation) with a selectable lowering `impl`.

  Attributes match flax's; padding is 'SAME', 'VALID', 'CIRCULAR', an int, or
  per-axis ints / (low, high) pairs of the dilated input (lax.conv_transpose's
  convention: PyTorch's k4 s2 p1 is ((2, 2), (2, 2))).
  impl: 'auto' | 'matmul' | 'xla'.
  """
  features: int
  kernel_size: int | Sequence[int]
  strides: None | int | Sequence[int] = None
  padding: PaddingLike = "SAME"
  use_bias: bool = True
  dtype: Any = None
  param_dtype: Any = jnp.float32
  precision: Any = None
  kernel_init: Any = nn.initializers.lecun_normal()
  bias_init: Any = nn.initializers.zeros_init()
  transpose_kernel: bool = False
  impl: str = "auto"

  @nn.compact
  def __call__(self, inputs: Array) -> Array:
    check_impl(self.impl)
    window = ((self.kernel_size,) if isinstance(self.kernel_size, int)
              else tuple(self.kernel_size))
    rank = len(window)
    inputs, batch_shape = _flatten_batch(inputs, rank)
    strides = _tuple(self.strides, rank)
    in_features = inputs.shape[-1]
    kernel_shape = window + ((self.features, in_features) if self.transpose_kernel
                             else (in_features, self.features))
    kernel = self.param("kernel", self.kernel_init, kernel_shape, self.param_dtype)
    padding = _canonical_padding(self.padding, rank)
    bias = (self.param("bias", self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias else None)
    inputs, kernel, bias = promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    y = conv_transpose(inputs, kernel, strides,
                       "VALID" if padding == "CIRCULAR" else padding,
                       transpose_kernel=self.transpose_kernel, impl=self.impl,
                       precision=self.precision)
    if padding == "CIRCULAR":
      y = _wrap_circular(y, inputs.shape[1:-1], strides, self.transpose_kernel)
    if bias is not None:
      y += bias.reshape((1,) * (y.ndim - 1) + (-1,))
    return _restore_batch(y, batch_shape)


def _wrap_circular(y: Array, in_spatial: Sequence[int], strides: Sequence[int],
                   transpose_kernel: bool) -> Array:
  """Folds a 'VALID' transposed-conv output onto a period of input * stride (flax)."""
  periods = [n * s for n, s in zip(in_spatial, strides)]
  diffs = [-(m - p) % (2 * p) for m, p in zip(y.shape[1:-1], periods)]
  # The odd pad element goes right with transpose_kernel (mirroring Conv), else left.
  pads = [(d // 2, (d + 1) // 2) if transpose_kernel else ((d + 1) // 2, d // 2)
          for d in diffs]
  y = jnp.pad(y, [(0, 0)] + pads + [(0, 0)])
  for i, p in enumerate(periods, start=1):
    y = y.reshape(y.shape[:i] + (-1, p) + y.shape[i + 1:]).sum(axis=i)
  return y
