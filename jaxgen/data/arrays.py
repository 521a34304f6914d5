"""In-memory datasets: epoch-permuted batches that are seekable without replaying."""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from jaxgen.data.base import (Batch, DataSpec, Dataset, batch_rng, check_stream_args,
                              eval_rng, process_rows)
from jaxgen.errors import DataError


def epoch_permutation(seed: int, epoch: int, num_examples: int) -> np.ndarray:
  """Order of the examples in `epoch`: a pure function of (seed, epoch)."""
  return batch_rng(seed, epoch).permutation(num_examples)


def batch_indices(
    num_examples: int, batch_size: int, *, seed: int, start: int = 0
) -> Iterator[np.ndarray]:
  """Yields example indices of batches start, start+1, ...

  Batch i covers positions i*B .. i*B+B-1 of the concatenated epoch permutations,
  so batches span epoch boundaries and each epoch visits every example once.
  """
  batch_size, seed, start = check_stream_args(batch_size, seed, start)
  if num_examples <= 0:
    raise DataError("cannot batch an empty dataset")
  return _batch_indices(num_examples, batch_size, seed, start)


def _batch_indices(
    num_examples: int, batch_size: int, seed: int, start: int
) -> Iterator[np.ndarray]:
  epoch, offset = divmod(start * batch_size, num_examples)
  perm = epoch_permutation(seed, epoch, num_examples)
  while True:
    parts = []
    needed = batch_size
    while needed:
      part = perm[offset:offset + needed]
      parts.append(part)
      needed -= len(part)
      offset += len(part)
      if offset == num_examples:
        epoch, offset = epoch + 1, 0
        perm = epoch_permutation(seed, epoch, num_examples)
    yield parts[0] if len(parts) == 1 else np.concatenate(parts)


def sample_indices(num_examples: int, n: int, *, seed: int) -> np.ndarray:
  """First n of seeded permutations: without replacement when n <= num_examples.

  For n > num_examples the permutations are concatenated, so every example
  appears floor(n/N) or ceil(n/N) times.
  """
  if n < 0:
    raise ValueError(f"n must be non-negative, got {n}")
  reps = -(-n // num_examples)
  perms = [eval_rng(seed, k).permutation(num_examples) for k in range(max(reps, 1))]
  return np.concatenate(perms)[:n]


class ArrayDataset(Dataset):
  """Finite examples held in memory; `transform` turns raw images into model inputs.

  Raw images stay in their compact dtype (e.g. uint8) and are scaled/resized per
  batch, which keeps memory at 1 byte per pixel and loading fast.
  """

  def __init__(
      self,
      spec: DataSpec,
      x: np.ndarray,
      y: np.ndarray | None,
      transform: Callable[[np.ndarray], np.ndarray],
  ):
    if y is None:
      y = np.zeros(len(x), np.int32)
    if len(x) != len(y):
      raise DataError(f"dataset {spec.name!r}: {len(x)} examples but {len(y)} labels")
    self.spec = spec
    self.num_examples = len(x)
    self._x = x
    self._y = np.asarray(y, np.int32)
    self._transform = transform

  def subset(self, n: int) -> "ArrayDataset":
    """The first n of a fixed permutation (seed 0), in dataset order: the same n examples
    for every run and seed, as the limited-data subsets of Karras et al. (2020)."""
    keep = np.sort(np.random.default_rng(0).permutation(self.num_examples)[:n])
    return ArrayDataset(self.spec, self._x[keep], self._y[keep], self._transform)

  def _gather(self, idx: np.ndarray) -> Batch:
    x = np.asarray(self._transform(self._x[idx]), np.float32)
    # 'index': each example's position in the dataset (per-example state such as IAAT's eps).
    return {"x": x, "y": self._y[idx], "index": np.asarray(idx, np.int32)}

  def batches(self, batch_size: int, *, seed: int, start: int = 0) -> Iterator[Batch]:
    indices = batch_indices(self.num_examples, batch_size, seed=seed, start=start)
    return map(self._gather, indices)

  def process_batches(self, batch_size: int, *, seed: int, start: int = 0,
                      process_index: int = 0, process_count: int = 1) -> Iterator[Batch]:
    rows = process_rows(batch_size, process_index, process_count)
    indices = batch_indices(self.num_examples, batch_size, seed=seed, start=start)
    return (self._gather(idx[rows]) for idx in indices)  # transforms only its own rows

  def sample(self, n: int, *, seed: int) -> Batch:
    return self._gather(sample_indices(self.num_examples, int(n), seed=seed))
