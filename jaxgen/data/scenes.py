"""Synthetic segmentation scenes: flat-coloured shapes (source) and photo-textured ones
(target), the CPU-sized analogue of LSD-seg's GTA5/SYNTHIA -> Cityscapes.

A scene is a background and 2-4 shapes (disc, rectangle, triangle) painted in random
order on a 32x32 canvas; its label map gives each pixel's class (0 = background,
CLASS_NAMES). Colours are drawn per image from a palette, so colour does not reveal the
class: the shape does. Source: every region is its flat colour. Target ("real"): the same
kind of layouts (another random stream), each class region textured with a crop of a
scikit-image photograph over its colour, then Gaussian blur and pixel noise.

Datasets: `scenes` (source labelled, target unlabelled: batches 'x', 'y', 'd', 'x_t',
'y_t' as `domain_adaptation`, with per-pixel labels y [B, 32, 32]); `scenes_source` and
`scenes_target` (one domain each: 'x', per-pixel 'y').
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from jaxgen.data import domain_recipes as recipes
from jaxgen.data.arrays import ArrayDataset
from jaxgen.data.base import DATASETS, DataSpec, image_size_field, split_field
from jaxgen.data.domains import DomainAdaptationDataset
from jaxgen.data.images import ImageTransform
from jaxgen.errors import ConfigError

SIZE = 32                                   # canvas side (pixels)
CLASS_NAMES = ("background", "disc", "rectangle", "triangle")
NUM_CLASSES = len(CLASS_NAMES)
SPLITS = ("train", "test")
NUM_SCENES = {"train": 4000, "test": 800}   # scenes per split and domain
DOMAINS = ("source", "target")
# Well-separated flat colours; each image gives its background and classes distinct ones.
PALETTE = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200],
                    [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230],
                    [250, 250, 250], [40, 40, 40]], np.uint8)
TEXTURE_WEIGHT = 0.6  # target: share of the photo texture in a region (the rest: its colour)
BLUR_SIGMA = 0.8      # target: Gaussian blur std (pixels)
NOISE_STD = 10.0      # target: pixel noise std (0..255 scale)


def shape_mask(kind: int, params: np.ndarray, size: int = SIZE) -> np.ndarray:
  """Bool [size, size] mask of one shape; pixel (r, c) is inside if its centre is.

  disc: (cy, cx, radius); rectangle: (cy, cx, half_height, half_width);
  triangle: (cy, cx, circumradius, angle), vertices at angle + 2 pi k / 3.
  """
  rows, cols = np.mgrid[:size, :size].astype(np.float64)
  cy, cx = params[0], params[1]
  if kind == 1:
    return (rows - cy) ** 2 + (cols - cx) ** 2 <= params[2] ** 2
  if kind == 2:
    return (np.abs(rows - cy) <= params[2]) & (np.abs(cols - cx) <= params[3])
  if kind == 3:
    angles = params[3] + 2 * np.pi * np.arange(3) / 3
    vy, vx = cy + params[2] * np.sin(angles), cx + params[2] * np.cos(angles)
    inside = np.ones((size, size), bool)
    for k in range(3):  # the counter-clockwise vertices: inside is left of every edge
      ay, ax, by, bx = vy[k], vx[k], vy[(k + 1) % 3], vx[(k + 1) % 3]
      inside &= (bx - ax) * (rows - ay) - (by - ay) * (cols - ax) >= 0
    return inside
  raise ValueError(f"unknown shape kind {kind}")


def random_layout(rng: np.random.Generator, size: int = SIZE) -> list[tuple[int, np.ndarray]]:
  """2-4 shapes (kind, params), in painting order."""
  shapes = []
  for _ in range(rng.integers(2, 5)):
    kind = int(rng.integers(1, NUM_CLASSES))
    cy, cx = rng.uniform(4, size - 4, size=2)
    if kind == 1:
      params = [cy, cx, rng.uniform(3.5, 8)]
    elif kind == 2:
      params = [cy, cx, rng.uniform(2.5, 7), rng.uniform(2.5, 7)]
    else:
      params = [cy, cx, rng.uniform(5, 10), rng.uniform(0, 2 * np.pi)]
    shapes.append((kind, np.array(params)))
  return shapes


def label_map(layout: list[tuple[int, np.ndarray]], size: int = SIZE) -> np.ndarray:
  """uint8 [size, size] classes: later shapes cover earlier ones."""
  labels = np.zeros((size, size), np.uint8)
  for kind, params in layout:
    labels[shape_mask(kind, params, size)] = kind
  return labels


def _textures(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
  """n random size x size RGB crops of scikit-image's photographs, float [n, s, s, 3]."""
  photos = recipes.photo_bank()
  out = np.empty((n, size, size, 3), np.float64)
  for i, p in enumerate(rng.integers(len(photos), size=n)):
    photo = photos[p]
    top = rng.integers(photo.shape[0] - size + 1)
    left = rng.integers(photo.shape[1] - size + 1)
    out[i] = photo[top:top + size, left:left + size]
  return out


def render(domain: str, n: int, rng: np.random.Generator, size: int = SIZE
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """n scenes of `domain`: (uint8 images [n, s, s, 3], uint8 labels [n, s, s],
  uint8 colours [n, NUM_CLASSES, 3] of each class region, background first)."""
  labels = np.stack([label_map(random_layout(rng, size), size) for _ in range(n)])
  colours = np.stack([PALETTE[rng.permutation(len(PALETTE))[:NUM_CLASSES]]
                      for _ in range(n)])
  flat = np.take_along_axis(colours, labels.reshape(n, -1, 1).astype(np.int64), axis=1)
  flat = flat.reshape(n, size, size, 3)
  if domain == "source":
    return flat, labels, colours
  from scipy import ndimage  # pylint: disable=g-import-not-at-top
  # Target: one photo crop per class region per image, over the region's colour.
  textures = _textures(rng, n * NUM_CLASSES, size).reshape(n, NUM_CLASSES, size, size, 3)
  textured = np.take_along_axis(textures, labels[:, None, :, :, None].astype(np.int64),
                                axis=1)[:, 0]
  x = TEXTURE_WEIGHT * textured + (1 - TEXTURE_WEIGHT) * flat
  x = ndimage.gaussian_filter(x, sigma=(0, BLUR_SIGMA, BLUR_SIGMA, 0))
  x = x + rng.normal(0.0, NOISE_STD, x.shape)
  return np.clip(np.rint(x), 0, 255).astype(np.uint8), labels, colours


@functools.lru_cache(maxsize=8)
def load_scenes(domain: str, split: str, domain_seed: int = 0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(images, labels, colours) of a domain's split: deterministic, read-only."""
  if domain not in DOMAINS:
    raise ValueError(f"unknown scene domain {domain!r}")
  if split not in SPLITS:
    raise ConfigError(f"unknown dataset.split {split!r}; choose one of: {', '.join(SPLITS)}")
  rng = np.random.default_rng([int(domain_seed), SPLITS.index(split), DOMAINS.index(domain),
                               2018])
  arrays = render(domain, NUM_SCENES[split], rng)
  for a in arrays:
    a.flags.writeable = False
  return arrays


def _transform(config: Any) -> ImageTransform:
  size = image_size_field(config)
  if size not in (0, SIZE):
    raise ConfigError(f"dataset.image_size must be 0 or {SIZE} for the scenes "
                      f"(labels are per pixel), got {size}")
  return ImageTransform(max_value=255.0)


def _spec(name: str) -> DataSpec:
  """Images (SIZE, SIZE, 3) with per-pixel labels of NUM_CLASSES classes."""
  return DataSpec(name, (SIZE, SIZE, 3), NUM_CLASSES, "image")


def _single(domain: str):
  def build(config: Any) -> ArrayDataset:
    split = split_field(config, f"scenes_{domain}", SPLITS)
    x, y, _ = load_scenes(domain, split, config.domain_seed)
    return ArrayDataset(_spec(f"scenes_{domain}"), x, y, _transform(config))
  return build


for _domain in DOMAINS:
  DATASETS.register(f"scenes_{_domain}")(_single(_domain))


@DATASETS.register("scenes")
def build_scenes(config: Any) -> DomainAdaptationDataset:
  """Flat source (labelled) -> textured target; split 'test' = source validation + target test.

  The source's train split loses dataset.val_fraction of its scenes to validation
  (model selection), as in `domain_adaptation`.
  """
  split = split_field(config, "scenes", SPLITS)
  if not 0 < config.val_fraction < 1:
    raise ConfigError(f"dataset.val_fraction must be in (0, 1), got {config.val_fraction}")
  seed = int(config.domain_seed)
  xs, ys, _ = load_scenes("source", "train", seed)
  order = np.random.default_rng([seed, len(ys), 7]).permutation(len(ys))
  num_val = int(round(config.val_fraction * len(ys)))
  part = np.sort(order[:num_val] if split == "test" else order[num_val:])
  xt, yt, _ = load_scenes("target", split, seed)
  return DomainAdaptationDataset(_spec("scenes"), [(xs[part], ys[part])], (xt, yt),
                                 _transform(config))
