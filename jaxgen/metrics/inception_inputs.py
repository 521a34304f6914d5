"""The FID input protocol: images in [-1, 1] -> the TF Inception's 299x299 input.

As TTUR, StyleGAN2-ADA and clean-fid feed `inception-2015-12-05`: images are quantised
to uint8 values (round((x + 1) * 127.5), clipped to [0, 255]), grey images repeated
to 3 channels, resized to 299x299 on those 0..255 values by `resize` (below), and
mapped to [-1, 0.9921875] by (v - 128) / 128, the scaling inside the TF graph.

Resize filters (`eval.resize`), each a separable [out, in] matrix applied to H and W:
  tf_bilinear     TF1's ResizeBilinear (align_corners=False, no half-pixel centres:
                  source = i * in / out), inside the TTUR graph and StyleGAN2-ADA's
                  detector; the FID of most GAN papers.
  pil_bicubic     clean-fid's 'clean' mode: PIL bicubic (a = -0.5, antialiased when
                  shrinking) on float channels, clipped to [0, 255].
  torch_bilinear  pytorch-fid's F.interpolate(bilinear, align_corners=False).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

INPUT_SIZE = 299
RESIZE_FILTERS = ("tf_bilinear", "pil_bicubic", "torch_bilinear")


def _bicubic(x: np.ndarray, a: float = -0.5) -> np.ndarray:
  """PIL's bicubic kernel (libImaging/Resample.c, a = -0.5)."""
  x = np.abs(x)
  near = ((a + 2) * x - (a + 3)) * x * x + 1
  far = (((x - 5) * x + 8) * x - 4) * a
  return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def _pil_bicubic_matrix(in_size: int, out_size: int) -> np.ndarray:
  """PIL's `precompute_coeffs` for BICUBIC as a dense [out, in] matrix (float64)."""
  scale = in_size / out_size
  filterscale = max(scale, 1.0)
  support = 2.0 * filterscale
  matrix = np.zeros((out_size, in_size))
  for i in range(out_size):
    center = (i + 0.5) * scale
    lo = max(int(center - support + 0.5), 0)
    hi = min(int(center + support + 0.5), in_size)
    taps = np.arange(lo, hi)
    weights = _bicubic((taps - center + 0.5) / filterscale)
    total = weights.sum()
    matrix[i, lo:hi] = weights / total if total != 0 else weights
  return matrix


def _bilinear_matrix(in_size: int, out_size: int, half_pixel: bool) -> np.ndarray:
  """Bilinear weights, edge-clamped; half_pixel=False is TF1's legacy source = i * in/out."""
  scale = in_size / out_size
  out = np.arange(out_size, dtype=np.float64)
  src = (out + 0.5) * scale - 0.5 if half_pixel else out * scale
  src = np.clip(src, 0.0, in_size - 1)
  lo = np.floor(src).astype(int)
  hi = np.minimum(lo + 1, in_size - 1)
  frac = src - lo
  matrix = np.zeros((out_size, in_size))
  np.add.at(matrix, (np.arange(out_size), lo), 1.0 - frac)
  np.add.at(matrix, (np.arange(out_size), hi), frac)
  return matrix


@functools.lru_cache(maxsize=64)
def resize_matrix(in_size: int, out_size: int, resize: str) -> np.ndarray:
  """The float32 [out, in] matrix of filter `resize` (one of RESIZE_FILTERS)."""
  if resize == "tf_bilinear":
    matrix = _bilinear_matrix(in_size, out_size, half_pixel=False)
  elif resize == "torch_bilinear":
    matrix = _bilinear_matrix(in_size, out_size, half_pixel=True)
  elif resize == "pil_bicubic":
    matrix = _pil_bicubic_matrix(in_size, out_size)
  else:
    raise ValueError(f"unknown resize filter {resize!r}; choose one of: "
                     f"{', '.join(RESIZE_FILTERS)}")
  return matrix.astype(np.float32)


def resize_images(images: jax.Array, resize: str, size: int = INPUT_SIZE) -> jax.Array:
  """Resizes NHWC images to size x size with filter `resize` (no-op at that size)."""
  _, h, w, _ = images.shape
  if (h, w) == (size, size):
    return images
  rows = jnp.asarray(resize_matrix(h, size, resize))
  cols = jnp.asarray(resize_matrix(w, size, resize))
  hp = jax.lax.Precision.HIGHEST
  x = jnp.einsum("oh,nhwc->nowc", rows, images, precision=hp)
  return jnp.einsum("pw,nowc->nopc", cols, x, precision=hp)


def quantize(images: jax.Array) -> jax.Array:
  """[-1, 1] floats -> the uint8 values 0..255 (as float32), as images saved to PNG."""
  return jnp.clip(jnp.round((images.astype(jnp.float32) + 1.0) * 127.5), 0.0, 255.0)


def tf_inception_inputs(images: jax.Array, resize: str = "tf_bilinear") -> jax.Array:
  """NHWC images in [-1, 1] (1 or 3 channels) -> 299x299x3 in [-1, 0.9921875]."""
  if images.shape[-1] == 1:
    images = jnp.tile(images, (1, 1, 1, 3))
  x = resize_images(quantize(images), resize)
  if resize == "pil_bicubic":
    x = jnp.clip(x, 0.0, 255.0)  # clean-fid clips after its bicubic overshoot.
  return (x - 128.0) / 128.0
