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
    process_rows,
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

  Epoch e is the split's encoded records shuffled with a TF seed derived from (seed, e);
  the epochs are concatenated and batched, and `start` skips whole epochs for free and
  at most one epoch of records, so batch i is a function of (seed, i) only. Images are
  decoded after the shuffle, and by each process only for its own rows of a batch.
  """

  def __init__(
      self,
      spec: DataSpec,
      records: Any,
      num_examples: int,
      decode: Callable[[Any, Any], tuple[Any, Any]],
      transform: Callable[[np.ndarray], np.ndarray],
      shuffle_buffer: int,
  ):
    self.spec = spec
    self.num_examples = num_examples
    self._records = records  # tf.data.Dataset of (encoded image, int32 label)
    self._decode = decode  # (encoded, label) -> (image, label), a TF function
    self._transform = transform
    self._buffer = max(1, min(shuffle_buffer, num_examples))

  def _elements(self, seed_base: int, first_epoch: int) -> Any:
    tf, _ = _import_tf()
    records, buffer = self._records, self._buffer

    def epoch(e):
      return records.shuffle(buffer, seed=seed_base + e, reshuffle_each_iteration=False)

    epochs = tf.data.Dataset.range(first_epoch, np.iinfo(np.int64).max)
    return epochs.flat_map(epoch)

  def _decoded(self, records: Any) -> Any:
    tf, _ = _import_tf()
    return records.map(self._decode, num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=True)

  def _to_batch(self, pair: tuple[np.ndarray, np.ndarray]) -> Batch:
    x, y = pair
    return {"x": np.asarray(self._transform(x), np.float32), "y": y.astype(np.int32)}

  def _stream(self, batch_size: int, seed: int, start: int, rows: slice) -> Iterator[Batch]:
    """Rows `rows` of global batches start, start + 1, ... (batch_size examples each)."""
    epoch, offset = divmod(start * batch_size, self.num_examples)
    ds = self._elements(_seed_base(np.random.SeedSequence(seed)), epoch).skip(offset)
    if rows != slice(0, batch_size):
      # Cut the encoded stream into global batches and keep this process's rows, so
      # every process sees the one-process order and decodes only its own images.
      ds = ds.batch(batch_size, drop_remainder=True)
      ds = ds.map(lambda x, y: (x[rows.start:rows.stop], y[rows.start:rows.stop]))
      ds = ds.unbatch()
    ds = self._decoded(ds).batch(rows.stop - rows.start, drop_remainder=True).prefetch(1)
    return map(self._to_batch, ds.as_numpy_iterator())

  def batches(self, batch_size: int, *, seed: int, start: int = 0) -> Iterator[Batch]:
    batch_size, seed, start = check_stream_args(batch_size, seed, start)
    return self._stream(batch_size, seed, start, slice(0, batch_size))

  def process_batches(self, batch_size: int, *, seed: int, start: int = 0,
                      process_index: int = 0, process_count: int = 1) -> Iterator[Batch]:
    batch_size, seed, start = check_stream_args(batch_size, seed, start)
    rows = process_rows(batch_size, process_index, process_count)
    return self._stream(batch_size, seed, start, rows)

  def sample(self, n: int, *, seed: int) -> Batch:
    n, seed = int(n), int(seed)
    if n <= 0 or seed < 0:
      raise ValueError(f"n must be positive and seed non-negative, got n={n}, seed={seed}")
    seq = np.random.SeedSequence(seed, spawn_key=(1,))  # disjoint from `batches`
    ds = self._decoded(self._elements(_seed_base(seq), 0).take(n)).batch(n)
    return self._to_batch(next(ds.as_numpy_iterator()))


def _records(tf: Any, ds: Any, image_key: str, label_key: str | None) -> Any:
  """Maps TFDS examples (images left encoded) to (encoded image, int32 label)."""

  def select(example):
    label = tf.cast(example[label_key], tf.int32) if label_key else tf.zeros([], tf.int32)
    return example[image_key], label

  return ds.map(select, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _decoder(tf: Any, image_feature: Any, example_transform: ImageTransform | None,
             out_shape: tuple[int, int, int]) -> Callable[[Any, Any], tuple[Any, Any]]:
  """(encoded image, label) -> (image, label); variable-size images are made float here."""

  def transform_one(image: np.ndarray) -> np.ndarray:
    return example_transform(image[None])[0]

  def decode(encoded, label):
    image = image_feature.decode_example(encoded)
    if example_transform is not None:
      image = tf.numpy_function(transform_one, [image], tf.float32, stateful=False)
      image = tf.ensure_shape(image, out_shape)
    return image, label

  return decode


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
  data_dir = os.path.expanduser(config.data_dir) or None
  info = tfds.builder(name, data_dir=data_dir).info
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
  # Images stay encoded until `decode`: a stream decodes only the rows it yields.
  ds = tfds.load(name, split=config.split, data_dir=data_dir,
                 decoders={image_key: tfds.decode.SkipDecoding()})
  records = _records(tf, ds, image_key, label_key if labeled else None)
  decode = _decoder(tf, image_feature, example_transform, out_shape)

  if config.in_memory:
    pairs = records.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    x, y = _load_in_memory(pairs, full_name)
    return ArrayDataset(spec, x, y, batch_transform)
  num_examples = int(ds.cardinality())
  if num_examples < 0:  # unknown cardinality: count once
    num_examples = int(records.reduce(np.int64(0), lambda count, *_: count + 1))
  if num_examples == 0:
    raise DataError(f"dataset {full_name!r}: the split is empty")
  return TfdsStream(spec, records, num_examples, decode, batch_transform,
                    config.shuffle_buffer)
