"""MNIST-format (IDX) datasets read with numpy from local files, raw or gzipped."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import os
import zlib
from typing import Any

import numpy as np

from jaxgen.data.arrays import ArrayDataset
from jaxgen.data.base import DATASETS, DataSpec, image_size_field, split_field
from jaxgen.data.images import ImageTransform
from jaxgen.errors import DataError

_PREFIX = {"train": "train", "test": "t10k"}
_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dims
_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dim
_NUM_CLASSES = 10


@dataclasses.dataclass(frozen=True)
class IdxSource:
  """Where an IDX dataset lives by default and how a user gets it."""

  name: str
  default_dir: str
  how_to_get: str


FASHION_MNIST = IdxSource(
    "fashion_mnist",
    "/usr/share/datasets/fashion-mnist",
    "install it with 'apt-get install dataset-fashion-mnist' or set "
    "--config.dataset.data_dir",
)
MNIST = IdxSource(
    "mnist",
    "/usr/share/datasets/mnist",
    "download the four MNIST IDX files (train-images-idx3-ubyte.gz, "
    "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) "
    "there or set --config.dataset.data_dir to their directory",
)


def find_idx_file(source: IdxSource, directory: str, stem: str) -> str:
  """Path of `stem` or `stem.gz` in `directory`, or a one-line how-to-fix error."""
  for path in (os.path.join(directory, stem), os.path.join(directory, stem + ".gz")):
    if os.path.isfile(path):
      return path
  raise DataError(
      f"dataset {source.name!r}: no {stem}[.gz] in {directory}; {source.how_to_get}"
  )


def parse_idx(data: bytes, path: str, magic: int) -> np.ndarray:
  """Decodes IDX bytes whose header must carry `magic`; `path` names it in errors."""
  ndim = magic & 0xFF
  header = 4 + 4 * ndim
  if len(data) < header:
    raise DataError(f"corrupt IDX file {path}: {len(data)} bytes is shorter than its header")
  found = int.from_bytes(data[:4], "big")
  if found != magic:
    raise DataError(
        f"corrupt IDX file {path}: magic number {found:#010x}, expected {magic:#010x}"
    )
  shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
  if len(data) != header + int(np.prod(shape)):
    raise DataError(
        f"corrupt IDX file {path}: header says shape {shape} "
        f"({header + int(np.prod(shape))} bytes) but the file has {len(data)} bytes"
    )
  return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def read_idx(path: str, magic: int) -> np.ndarray:
  """Reads a raw or .gz IDX file as a read-only uint8 array."""
  with open(path, "rb") as f:
    data = f.read()
  if path.endswith(".gz"):
    try:
      data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
      raise DataError(f"corrupt IDX file {path}: not valid gzip ({e})") from e
  return parse_idx(data, path, magic)


@functools.lru_cache(maxsize=4)
def _load_cached(
    images_path: str, labels_path: str, stamp: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
  del stamp  # part of the cache key only: a rewritten file is read again
  images = read_idx(images_path, _IMAGES_MAGIC)
  labels = read_idx(labels_path, _LABELS_MAGIC)
  if len(images) != len(labels):
    raise DataError(
        f"IDX files disagree: {images_path} has {len(images)} images but "
        f"{labels_path} has {len(labels)} labels"
    )
  if labels.size and labels.max() >= _NUM_CLASSES:
    raise DataError(f"corrupt IDX file {labels_path}: label {labels.max()} >= {_NUM_CLASSES}")
  return images[..., None], labels.astype(np.int32)


def load_idx_split(
    source: IdxSource, directory: str, split: str
) -> tuple[np.ndarray, np.ndarray]:
  """Returns (uint8 images [N, H, W, 1], int32 labels [N]) of `split` in `directory`."""
  images_path = find_idx_file(source, directory, f"{_PREFIX[split]}-images-idx3-ubyte")
  labels_path = find_idx_file(source, directory, f"{_PREFIX[split]}-labels-idx1-ubyte")
  stats = [os.stat(p) for p in (images_path, labels_path)]
  stamp = tuple(v for s in stats for v in (s.st_mtime_ns, s.st_size))
  return _load_cached(images_path, labels_path, stamp)


def build_idx(source: IdxSource, config: Any) -> ArrayDataset:
  """An IDX dataset: 28x28x1 grey images natively, 10 classes."""
  split = split_field(config, source.name, tuple(_PREFIX))
  transform = ImageTransform(max_value=255.0, image_size=image_size_field(config))
  directory = os.path.expanduser(config.data_dir or source.default_dir)
  images, labels = load_idx_split(source, directory, split)
  spec = DataSpec(source.name, transform.output_shape(images.shape[1:]), _NUM_CLASSES, "image")
  return ArrayDataset(spec, images, labels, transform)


DATASETS.register("fashion_mnist")(functools.partial(build_idx, FASHION_MNIST))
DATASETS.register("mnist")(functools.partial(build_idx, MNIST))
