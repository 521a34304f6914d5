"""The one data interface: a config names a dataset and gets a seekable batch stream."""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, Callable, Iterator

import numpy as np

from jaxgen.registry import Registry

Batch = dict[str, np.ndarray]

TFDS_PREFIX = "tfds:"
# Registry key for every `tfds:<name>`; it also shows users the syntax in the
# unknown-name error instead of a list of all TFDS names.
TFDS_KEY = "tfds:<name>"


@dataclasses.dataclass(frozen=True)
class DataSpec:
  """What a dataset yields, so models can be built before seeing data."""

  name: str  # e.g. 'digits', 'ring8', 'tfds:cifar10'
  shape: tuple[int, ...]  # per example: (H, W, C) for images, (2,) for points
  num_classes: int  # 0 when unlabeled
  kind: str  # 'image' or 'points'


class Dataset(abc.ABC):
  """A source of real examples: an infinite seekable batch stream plus eval samples."""

  spec: DataSpec

  @abc.abstractmethod
  def batches(self, batch_size: int, *, seed: int, start: int = 0) -> Iterator[Batch]:
    """Yields {'x': float32 [B, *shape], 'y': int32 [B]} forever.

    Batch i depends only on (seed, i), so `start=k` resumes an uninterrupted
    `start=0` stream at its k-th batch.
    """

  @abc.abstractmethod
  def sample(self, n: int, *, seed: int) -> Batch:
    """Returns n real examples for evaluation, without replacement when possible."""


DatasetBuilder = Callable[[Any], Dataset]

DATASETS: Registry[DatasetBuilder] = Registry("dataset.name")


def get_dataset(config: Any) -> Dataset:
  """Builds the dataset named by `config.name` (the `config.dataset` sub-config)."""
  name = config.get("name", "")
  key = TFDS_KEY if str(name).startswith(TFDS_PREFIX) else name
  return DATASETS.get(key)(config)


def check_stream_args(batch_size: int, seed: int, start: int) -> tuple[int, int, int]:
  """Validates and normalises `batches` arguments to plain non-negative ints."""
  batch_size, seed, start = int(batch_size), int(seed), int(start)
  if batch_size <= 0:
    raise ValueError(f"batch_size must be positive, got {batch_size}")
  if seed < 0:
    raise ValueError(f"seed must be non-negative, got {seed}")
  if start < 0:
    raise ValueError(f"start must be non-negative, got {start}")
  return batch_size, seed, start


def batch_rng(seed: int, index: int) -> np.random.Generator:
  """Generator for training batch/epoch `index`: a pure function of (seed, index)."""
  return np.random.default_rng([seed, index])


def eval_rng(seed: int, index: int = 0) -> np.random.Generator:
  """Generator for `sample`, independent of every `batch_rng(seed, i)`."""
  if int(seed) < 0:
    raise ValueError(f"seed must be non-negative, got {seed}")
  # A spawn key keeps this stream disjoint from default_rng([seed, i]).
  return np.random.default_rng(np.random.SeedSequence([int(seed), index], spawn_key=(1,)))


def image_size_field(config: Any) -> int:
  """Reads `image_size` (0 = native size), rejecting negative values."""
  size = int(config.get("image_size", 0))
  if size < 0:
    raise ValueError(f"dataset.image_size must be >= 0, got {size}")
  return size


def split_field(config: Any, name: str, allowed: tuple[str, ...]) -> str:
  """Reads `split` (default 'train') and checks it is one of `allowed`."""
  split = config.get("split", "train")
  if split not in allowed:
    raise ValueError(
        f"dataset {name!r}: unknown dataset.split {split!r}; choose one of: "
        f"{', '.join(allowed)}"
    )
  return split
