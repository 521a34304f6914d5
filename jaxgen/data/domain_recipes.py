"""Recipes that turn one image set into a shifted domain (pure numpy, seeded).

MNIST-M (Ganin & Lempitsky 2015): |x - photo crop|; RotatedMNIST and ColoredMNIST
(DomainBed, Gulrajani & Lopez-Paz 2021); label shift by per-class subsampling (the
Normalized-Wasserstein paper's MNIST -> MNIST-M settings, Balaji et al. 2019).
"""

from __future__ import annotations

import functools
import os

import numpy as np
from PIL import Image

# scikit-image's bundled photographs and textures (natural images; the plain charts,
# binary masks and line art among its files are left out).
PHOTO_FILES = ("astronaut.png", "brick.png", "camera.png", "cell.png", "chelsea.png",
               "coffee.png", "coins.png", "color.png", "grass.png", "gravel.png",
               "hubble_deep_field.jpg", "ihc.png", "microaneurysms.png", "moon.png",
               "motorcycle_left.png", "motorcycle_right.png", "retina.jpg", "rocket.jpg",
               "page.png", "clock_motion.png")

# The NW paper's label-shift settings (per-class fractions kept, source vs target).
LABEL_SHIFTS = {
    "nw3": dict(classes=(1, 4, 8), source=(1.0, 0.5, 0.1), target=(0.1, 0.5, 1.0)),
    "nw5": dict(classes=(0, 2, 4, 6, 8), source=(1.0, 0.8, 0.6, 0.4, 0.2),
                target=(0.2, 0.4, 0.6, 0.8, 1.0)),
    "nw10": dict(classes=tuple(range(10)),
                 source=(1.0, 1.0, 1.0, 0.7, 0.7, 0.7, 0.3, 0.3, 0.3, 0.3),
                 target=(0.3, 0.3, 0.3, 0.3, 0.7, 0.7, 0.7, 1.0, 1.0, 1.0)),
}


def to_rgb(images: np.ndarray) -> np.ndarray:
  """[N, H, W, 1 or 3] -> [N, H, W, 3] (grey repeated over the channels)."""
  return images if images.shape[-1] == 3 else np.repeat(images, 3, axis=-1)


@functools.lru_cache(maxsize=1)
def photo_bank() -> tuple[np.ndarray, ...]:
  """scikit-image's photos as uint8 RGB arrays, in PHOTO_FILES order."""
  try:
    import skimage  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise FileNotFoundError("the photo domains need scikit-image: pip install scikit-image") from e
  data_dir = os.path.join(os.path.dirname(skimage.__file__), "data")
  photos = []
  for name in PHOTO_FILES:
    with Image.open(os.path.join(data_dir, name)) as image:
      photos.append(np.asarray(image.convert("RGB"), np.uint8))
  return tuple(photos)


def blend_with_photos(images: np.ndarray, rng: np.random.Generator,
                      photos: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
  """MNIST-M: |x - patch| per channel, the patch a random crop of a random photo.

  images: uint8 [N, H, W, 1 or 3]; returns uint8 [N, H, W, 3].
  """
  photos = photo_bank() if photos is None else photos
  n, h, w, _ = images.shape
  out = np.empty((n, h, w, 3), np.uint8)
  which = rng.integers(len(photos), size=n)
  rgb = to_rgb(images).astype(np.int16)
  for p, photo in enumerate(photos):
    idx = np.flatnonzero(which == p)
    if not len(idx):
      continue
    top = rng.integers(photo.shape[0] - h + 1, size=len(idx))
    left = rng.integers(photo.shape[1] - w + 1, size=len(idx))
    rows = top[:, None] + np.arange(h)  # [n_p, h]
    cols = left[:, None] + np.arange(w)  # [n_p, w]
    patches = photo[rows[:, :, None], cols[:, None, :]].astype(np.int16)  # [n_p, h, w, 3]
    out[idx] = np.abs(rgb[idx] - patches).astype(np.uint8)
  return out


def rotate(images: np.ndarray, degrees: float) -> np.ndarray:
  """RotatedMNIST: every image rotated by `degrees` (bilinear, corners filled with 0)."""
  if degrees == 0:
    return images
  from scipy import ndimage  # pylint: disable=g-import-not-at-top
  out = ndimage.rotate(images.astype(np.float32), degrees, axes=(1, 2), reshape=False,
                       order=1, mode="constant", cval=0.0)
  return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def colour_by_label(images: np.ndarray, labels: np.ndarray, colour_flip: float,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
  """ColoredMNIST: binary label (class < 5 -> 0) flipped w.p. 0.25, colour = label
  flipped w.p. `colour_flip`; colour 0 draws the image in red, 1 in green.

  Returns (uint8 [N, H, W, 3], int32 binary labels [N]).
  """
  n = len(labels)
  binary = (labels >= 5).astype(np.int32)
  binary ^= (rng.random(n) < 0.25).astype(np.int32)
  colour = binary ^ (rng.random(n) < colour_flip).astype(np.int32)
  out = np.zeros(images.shape[:3] + (3,), np.uint8)
  grey = images[..., 0]
  out[colour == 0, :, :, 0] = grey[colour == 0]
  out[colour == 1, :, :, 1] = grey[colour == 1]
  return out, binary


def label_shift_indices(labels: np.ndarray, classes: tuple[int, ...],
                        fractions: tuple[float, ...], rng: np.random.Generator) -> np.ndarray:
  """Sorted indices keeping round(fraction_k * count_k) random examples of each class k.

  Classes not in `classes` are dropped (the NW paper's 3- and 5-class settings).
  """
  if len(classes) != len(fractions):
    raise ValueError(f"{len(classes)} classes but {len(fractions)} fractions")
  kept = []
  for k, fraction in zip(classes, fractions):
    idx = np.flatnonzero(labels == k)
    kept.append(rng.permutation(idx)[:int(round(fraction * len(idx)))])
  return np.sort(np.concatenate(kept))


def relabel(labels: np.ndarray, classes: tuple[int, ...]) -> np.ndarray:
  """Maps the kept classes to 0..len(classes)-1 in the given order."""
  table = np.full(max(int(labels.max()), max(classes)) + 1, -1, np.int32)
  table[list(classes)] = np.arange(len(classes), dtype=np.int32)
  return table[labels]
