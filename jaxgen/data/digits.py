"""scikit-learn's bundled 8x8 digits: the embedded default dataset (no download)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from jaxgen.data.arrays import ArrayDataset
from jaxgen.data.base import DATASETS, DataSpec, image_size_field, split_field
from jaxgen.data.images import ImageTransform

_SPLITS = ("train", "test", "all")
_MAX_VALUE = 16.0  # digits pixels are counts 0..16


@functools.lru_cache(maxsize=None)
def load_digits_split(split: str) -> tuple[np.ndarray, np.ndarray]:
  """Returns read-only (uint8 images [N, 8, 8, 1] in 0..16, int32 labels [N]).

  'train'/'test' are the fixed stratified 80/20 split (random_state=0).
  """
  # Imported here: sklearn takes ~0.6 s to import and only this source needs it.
  from sklearn.datasets import load_digits  # pylint: disable=g-import-not-at-top
  from sklearn.model_selection import train_test_split  # pylint: disable=g-import-not-at-top

  digits = load_digits()
  images = digits.images.astype(np.uint8)[..., None]
  labels = digits.target.astype(np.int32)
  if split != "all":
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), test_size=0.2, random_state=0, stratify=labels
    )
    idx = train_idx if split == "train" else test_idx
    images, labels = images[idx], labels[idx]
  images.flags.writeable = False
  labels.flags.writeable = False
  return images, labels


@DATASETS.register("digits")
def build_digits(config: Any) -> ArrayDataset:
  """1797 8x8 grey digits, 10 classes; `image_size` upsamples (e.g. 16 or 32)."""
  split = split_field(config, "digits", _SPLITS)
  transform = ImageTransform(max_value=_MAX_VALUE, image_size=image_size_field(config))
  images, labels = load_digits_split(split)
  spec = DataSpec("digits", transform.output_shape(images.shape[1:]), 10, "image")
  return ArrayDataset(spec, images, labels, transform)
