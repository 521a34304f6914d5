"""Sample grids and scatter plots written as PNG files."""

from __future__ import annotations

import math
import os
import shutil

import einops
import numpy as np
from PIL import Image


def to_uint8(images: np.ndarray) -> np.ndarray:
  """Maps images in [-1, 1] to uint8 in [0, 255]."""
  return np.clip(np.round((np.asarray(images) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def image_grid(images: np.ndarray, rows: int | None = None, pad: int = 1) -> np.ndarray:
  """Tiles images [N, H, W, C] in [-1, 1] into one uint8 array [rows*(H+pad)+pad, ..., C]."""
  images = to_uint8(images)
  n = images.shape[0]
  rows = rows or int(math.floor(math.sqrt(n)))
  cols = math.ceil(n / rows)
  blank = np.zeros((rows * cols - n,) + images.shape[1:], np.uint8)
  images = np.concatenate([images, blank])
  images = np.pad(images, ((0, 0), (pad, 0), (pad, 0), (0, 0)))
  grid = einops.rearrange(images, "(r c) h w ch -> (r h) (c w) ch", r=rows, c=cols)
  return np.pad(grid, ((0, pad), (0, pad), (0, 0)))


def save_image_grid(path: str, images: np.ndarray, scale: int = 1) -> np.ndarray:
  """Writes a grid of images [N, H, W, C] in [-1, 1] as a PNG; returns the grid."""
  grid = image_grid(images)
  img = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
  if scale > 1:
    img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
  img.save(path)
  return grid


def save_scatter(path: str, samples: np.ndarray, reference: np.ndarray | None = None,
                 title: str = "") -> np.ndarray:
  """Writes a 2-D scatter of generated points over reference data; returns the RGB image."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(4, 4), dpi=100)
  if reference is not None:
    ax.scatter(reference[:, 0], reference[:, 1], s=2, c="tab:gray", alpha=0.4,
               label="data")
  ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:blue", alpha=0.6,
             label="generated")
  ax.set_aspect("equal")
  ax.legend(loc="upper right", markerscale=4, fontsize=7)
  if title:
    ax.set_title(title, fontsize=9)
  fig.tight_layout()
  fig.canvas.draw()
  rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
  fig.savefig(path)
  plt.close(fig)
  return rgb


def copy_file(src: str, dst: str) -> None:
  """Copies a file through a temporary name, so readers never see a partial file."""
  shutil.copyfile(src, dst + ".tmp")
  os.replace(dst + ".tmp", dst)
