"""Image mixtures with chosen proportions: classes of an IDX dataset as mixture components.

`dataset.name='class_mixture'`: `dataset.source` (fashion_mnist | mnist) restricted to
`dataset.classes` ('0,1,7'), each example's class drawn with `dataset.weights` (e.g.
(0.6, 0.3, 0.1)); label = the component index. The NW-GAN's image testbed.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import numpy as np

from jaxgen.data.base import (DATASETS, Batch, DataSpec, Dataset, batch_rng, check_stream_args,
                              eval_rng, image_size_field, split_field)
from jaxgen.data.idx import FASHION_MNIST, MNIST, load_idx_split
from jaxgen.data.images import ImageTransform
from jaxgen.errors import ConfigError

SOURCES = {"fashion_mnist": FASHION_MNIST, "mnist": MNIST}


class ClassMixture(Dataset):
  """Examples of class `classes[k]` with probability weights[k]; label y = k."""

  def __init__(self, images: np.ndarray, labels: np.ndarray, classes: list[int],
               weights: np.ndarray, transform: ImageTransform, name: str):
    self._by_class = [images[labels == c] for c in classes]
    self.weights = weights / weights.sum()
    self._transform = transform
    self.spec = DataSpec(name, transform.output_shape(images.shape[1:]), len(classes), "image")

  def _draw(self, rng: np.random.Generator, n: int) -> Batch:
    y = rng.choice(len(self.weights), size=n, p=self.weights)
    raw = np.stack([self._by_class[k][rng.integers(len(self._by_class[k]))] for k in y])
    return {"x": np.asarray(self._transform(raw), np.float32), "y": y.astype(np.int32)}

  def batches(self, batch_size: int, *, seed: int, start: int = 0) -> Iterator[Batch]:
    batch_size, seed, start = check_stream_args(batch_size, seed, start)
    return (self._draw(batch_rng(seed, i), batch_size) for i in _count(start))

  def sample(self, n: int, *, seed: int) -> Batch:
    return self._draw(eval_rng(seed), int(n))


def _count(start: int) -> Iterator[int]:
  while True:
    yield start
    start += 1


@DATASETS.register("class_mixture")
def build(config: Any) -> ClassMixture:
  source = SOURCES.get(config.source)
  if source is None:
    raise ConfigError(f"dataset 'class_mixture': dataset.source must be one of "
                      f"{', '.join(SOURCES)}, got {config.source!r}")
  try:
    classes = [int(c) for c in str(config.classes).split(",") if c.strip()]
  except ValueError as e:
    raise ConfigError(f"dataset.classes must be comma-separated class ids, got "
                      f"{config.classes!r}") from e
  weights = np.array(config.weights or [1.0] * len(classes), np.float64)
  if not classes or weights.shape != (len(classes),) or np.any(weights < 0) or not weights.sum():
    raise ConfigError(f"dataset 'class_mixture': dataset.weights must be {len(classes)} "
                      f"non-negative values for dataset.classes={config.classes!r}")
  split = split_field(config, "class_mixture", ("train", "test"))
  directory = os.path.expanduser(config.data_dir or source.default_dir)
  images, labels = load_idx_split(source, directory, split)
  transform = ImageTransform(max_value=255.0, image_size=image_size_field(config))
  return ClassMixture(images, labels, classes, weights, transform, "class_mixture")
