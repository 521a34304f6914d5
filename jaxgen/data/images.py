"""Image preprocessing in numpy: scale to [-1, 1], centre-crop, antialiased resize."""

from __future__ import annotations

import dataclasses

import numpy as np


def resize_matrix(in_size: int, out_size: int) -> np.ndarray:
  """[out, in] weights of 1-D bilinear (triangle) resampling, antialiased when shrinking.

  Half-pixel centres and renormalised edge weights, as `jax.image.resize(...,
  'linear', antialias=True)`, so both libraries give the same images.
  """
  scale = out_size / in_size
  kernel_scale = min(scale, 1.0)  # widen the triangle by 1/scale when shrinking
  centres = (np.arange(out_size) + 0.5) / scale - 0.5
  dist = np.arange(in_size)[None, :] - centres[:, None]
  weights = np.maximum(0.0, 1.0 - np.abs(dist) * kernel_scale)
  return weights / weights.sum(axis=1, keepdims=True)


def resize(images: np.ndarray, height: int, width: int) -> np.ndarray:
  """Resizes float images [B, H, W, C] to [B, height, width, C] (separable matmuls)."""
  _, h, w, _ = images.shape
  if (h, w) == (height, width):
    return images
  rows = resize_matrix(h, height).astype(np.float32)
  cols = resize_matrix(w, width).astype(np.float32)
  x = np.moveaxis(images, -1, 1)  # [B, C, H, W]
  x = rows @ x @ cols.T  # [B, C, height, width]
  return np.ascontiguousarray(np.moveaxis(x, 1, -1))


def center_crop(images: np.ndarray) -> np.ndarray:
  """Crops images [B, H, W, C] to their central min(H, W) square."""
  _, h, w, _ = images.shape
  side = min(h, w)
  top, left = (h - side) // 2, (w - side) // 2
  return images[:, top:top + side, left:left + side]


@dataclasses.dataclass(frozen=True)
class ImageTransform:
  """Maps raw images [B, H, W, C] with values in [0, max_value] to float32 in [-1, 1]."""

  max_value: float  # raw value that maps to +1 (255 for uint8, 16 for digits)
  image_size: int = 0  # 0 = native size, else resize to image_size x image_size
  crop: bool = False  # centre-crop to a square before resizing

  def output_shape(self, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Per-example output shape for raw per-example `shape` (H, W, C)."""
    h, w, c = shape
    if self.crop:
      h = w = min(h, w)
    if self.image_size:
      h = w = self.image_size
    return (int(h), int(w), int(c))

  def __call__(self, images: np.ndarray) -> np.ndarray:
    if self.crop:
      images = center_crop(images)
    x = images.astype(np.float32) * np.float32(2.0 / self.max_value) - np.float32(1.0)
    if self.image_size:
      x = resize(x, self.image_size, self.image_size)
      x = np.clip(x, -1.0, 1.0)  # convex weights; clip only float rounding
    return x
