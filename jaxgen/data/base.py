"""The one data interface: a config names a dataset and gets a seekable batch stream."""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, Callable, Iterator

import numpy as np

from jaxgen import config_base
from jaxgen.errors import ConfigError
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

  def process_batches(self, batch_size: int, *, seed: int, start: int = 0,
                      process_index: int = 0, process_count: int = 1) -> Iterator[Batch]:
    """This process's rows `process_rows(...)` of each global batch of `batches`.

    The processes' slices, concatenated in process order, are the one-process stream.
    Datasets that can load only those rows override this; the default slices.
    """
    stream = self.batches(batch_size, seed=seed, start=start)
    if process_count == 1:
      return stream
    rows = process_rows(batch_size, process_index, process_count)
    return ({k: v[rows] for k, v in batch.items()} for batch in stream)


DatasetBuilder = Callable[[Any], Dataset]

DATASETS: Registry[DatasetBuilder] = Registry("dataset.name")


def get_dataset(config: Any) -> Dataset:
  """Builds the dataset named by `config.name` (the `config.dataset` sub-config)."""
  config = config_base.complete(config_base.dataset_defaults(), config)
  key = TFDS_KEY if str(config.name).startswith(TFDS_PREFIX) else config.name
  dataset = DATASETS.get(key)(config)
  n = int(config.train_examples)
  if n:
    if config.split != "train" or not hasattr(dataset, "subset"):
      raise ConfigError(f"dataset.train_examples={n} needs split 'train' of an in-memory "
                        f"dataset; {config.name!r} split {config.split!r} is not")
    if n > dataset.num_examples:
      raise ConfigError(f"dataset.train_examples={n} exceeds the {dataset.num_examples} "
                        f"examples of {config.name!r}; allowed: 0 (all) to {dataset.num_examples}")
    dataset = dataset.subset(n)
  return dataset


def process_rows(batch_size: int, process_index: int, process_count: int) -> slice:
  """Rows of a global batch that process `process_index` of `process_count` loads."""
  if batch_size % process_count:
    raise ValueError(f"batch size {batch_size} is not divisible by the number of "
                     f"processes ({process_count})")
  per_process = batch_size // process_count
  return slice(process_index * per_process, (process_index + 1) * per_process)


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
  size = int(config.image_size)
  if size < 0:
    raise ConfigError(f"dataset.image_size must be >= 0, got {size}")
  return size


def split_field(config: Any, name: str, allowed: tuple[str, ...]) -> str:
  """Reads `split` (default 'train') and checks it is one of `allowed`."""
  split = config.split
  if split not in allowed:
    raise ConfigError(
        f"dataset {name!r}: unknown dataset.split {split!r}; choose one of: "
        f"{', '.join(allowed)}"
    )
  return split
