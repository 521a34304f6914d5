"""TensorFlow Datasets as `tfds:<name>`; TensorFlow is imported only when one is built."""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator

import numpy as np

from jaxgen.data.arrays import ArrayDataset
from jaxgen.data.base import (
    DATASETS,
    TFDS_KEY,
    TFDS_PREFIX,
    Batch,
    DataSpec,
    Dataset,
    check_stream_args,
    image_size_field,
)
from jaxgen.data.images import ImageTransform
from jaxgen.errors import ConfigError, DataError

_LOAD_BATCH = 1024  # examples per tf.data batch when decoding a split into memory


def _import_tf() -> tuple[Any, Any]:
  """Imports TF and TFDS lazily, keeping TF off accelerators (they belong to JAX)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  try:
    tf.config.set_visible_devices([], "GPU")
  except RuntimeError:
    pass  # TF already initialised its devices; nothing more we can do
  return tf, tfds


def _seed_base(seq: np.random.SeedSequence) -> int:
  """A 62-bit int from `seq`; epoch e shuffles with TF seed base + e."""
  return int(seq.generate_state(1, np.uint64)[0] >> 2)


class TfdsStream(Dataset):
  """A TFDS split streamed with tf.data, too big to hold in memory.

  Epoch e is the split shuffled with a TF seed derived from (seed, e); the epochs
  are concatenated and batched, and `start` skips whole epochs for free and at
  most one epoch of examples, so batch i is a function of (seed, i) only.
  """

  def __init__(
      self,
      spec: DataSpec,
      pairs: Any,
      num_examples: int,
      transform: Callable[[np.ndarray], np.ndarray],
      shuffle_buffer: int,
  ):
    self.spec = spec
    self.num_examples = num_examples
    self._pairs = pairs  # tf.data.Dataset of (image, int32 label)
    self._transform = transform
    self._buffer = max(1, min(shuffle_buffer, num_examples))

  def _elements(self, seed_base: int, first_epoch: int) -> Any:
    tf, _ = _import_tf()
    pairs, buffer = self._pairs, self._buffer

    def epoch(e):
      return pairs.shuffle(buffer, seed=seed_base + e, reshuffle_each_iteration=False)

    epochs = tf.data.Dataset.range(first_epoch, np.iinfo(np.int64).max)
    return epochs.flat_map(epoch)

  def _to_batch(self, pair: tuple[np.ndarray, np.ndarray]) -> Batch:
    x, y = pair
    return {"x": np.asarray(self._transform(x), np.float32), "y": y.astype(np.int32)}

  def batches(self, batch_size: int, *, seed: int, start: int = 0) -> Iterator[Batch]:
    batch_size, seed, start = check_stream_args(batch_size, seed, start)
    epoch, offset = divmod(start * batch_size, self.num_examples)
    ds = self._elements(_seed_base(np.random.SeedSequence(seed)), epoch)
    ds = ds.skip(offset).batch(batch_size, drop_remainder=True).prefetch(1)
    return map(self._to_batch, ds.as_numpy_iterator())

  def sample(self, n: int, *, seed: int) -> Batch:
    n, seed = int(n), int(seed)
    if n <= 0 or seed < 0:
      raise ValueError(f"n must be positive and seed non-negative, got n={n}, seed={seed}")
    seq = np.random.SeedSequence(seed, spawn_key=(1,))  # disjoint from `batches`
    ds = self._elements(_seed_base(seq), 0).take(n).batch(n)
    return self._to_batch(next(ds.as_numpy_iterator()))


def _select_pairs(
    tf: Any,
    ds: Any,
    image_key: str,
    label_key: str | None,
    example_transform: ImageTransform | None,
    out_shape: tuple[int, int, int],
) -> Any:
  """Maps TFDS examples to (image, int32 label); variable-size images are made float here."""

  def transform_one(image: np.ndarray) -> np.ndarray:
    return example_transform(image[None])[0]

  def select(example):
    image = example[image_key]
    if example_transform is not None:
      image = tf.numpy_function(transform_one, [image], tf.float32, stateful=False)
      image = tf.ensure_shape(image, out_shape)
    label = tf.cast(example[label_key], tf.int32) if label_key else tf.zeros([], tf.int32)
    return image, label

  return ds.map(select, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _load_in_memory(pairs: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
  xs, ys = [], []
  for x, y in pairs.batch(_LOAD_BATCH).as_numpy_iterator():
    xs.append(x)
    ys.append(y)
  if not xs:
    raise DataError(f"dataset {name!r}: the split is empty")
  return np.concatenate(xs), np.concatenate(ys)


@DATASETS.register(TFDS_KEY)
def build_tfds(config: Any) -> Dataset:
  """Any TFDS image dataset: `tfds.load(name, split=split, data_dir=data_dir or None)`.

  Fields (defaults in config_base): image_key, label_key (unlabeled if absent),
  center_crop, image_size (0 = native), in_memory, shuffle_buffer (streaming only).
  """
  full_name = config.name
  name = full_name[len(TFDS_PREFIX):]
  if not name:
    raise ConfigError("dataset.name 'tfds:' needs a TFDS name, e.g. 'tfds:cifar10'")
  image_key, label_key = config.image_key, config.label_key
  transform = ImageTransform(
      max_value=255.0,
      image_size=image_size_field(config),
      crop=config.center_crop,
  )

  tf, tfds = _import_tf()
  ds, info = tfds.load(
      name,
      split=config.split,
      data_dir=os.path.expanduser(config.data_dir) or None,
      with_info=True,
  )
  features = info.features
  if image_key not in features:
    raise ConfigError(
        f"dataset {full_name!r}: no feature {image_key!r} (has {', '.join(features.keys())}); "
        "set dataset.image_key"
    )
  image_feature = features[image_key]
  if np.dtype(image_feature.np_dtype) != np.uint8:
    raise DataError(f"dataset {full_name!r}: feature {image_key!r} is not uint8 images")
  shape = tuple(image_feature.shape)
  labeled = label_key in features and hasattr(features[label_key], "num_classes")
  num_classes = int(features[label_key].num_classes) if labeled else 0

  if len(shape) == 3 and None not in shape:
    # Fixed size: keep uint8 images and transform whole batches in numpy.
    out_shape = transform.output_shape(shape)
    example_transform, batch_transform = None, transform
  elif len(shape) == 3 and shape[2] is not None and transform.image_size:
    # Varying size: crop/resize each image in the pipeline so that they batch.
    out_shape = (transform.image_size, transform.image_size, shape[2])
    example_transform, batch_transform = transform, np.asarray
  else:
    raise ConfigError(
        f"dataset {full_name!r}: images have varying shape {shape}; set dataset.image_size"
    )
  spec = DataSpec(full_name, out_shape, num_classes, "image")
  pairs = _select_pairs(
      tf, ds, image_key, label_key if labeled else None, example_transform, out_shape
  )

  if config.in_memory:
    x, y = _load_in_memory(pairs, full_name)
    return ArrayDataset(spec, x, y, batch_transform)
  num_examples = int(ds.cardinality())
  if num_examples < 0:  # unknown cardinality: count once
    num_examples = int(pairs.reduce(np.int64(0), lambda count, *_: count + 1))
  if num_examples == 0:
    raise DataError(f"dataset {full_name!r}: the split is empty")
  return TfdsStream(
      spec, pairs, num_examples, batch_transform, config.shuffle_buffer
  )
