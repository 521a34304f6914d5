"""The DataSpec of a `config.dataset` without reading its examples (e.g. to sample a run).

Equal to `get_dataset(config).spec` (tests/test_generate.py checks it for every source
it can build here).
"""

from __future__ import annotations

import os
from typing import Any

from jaxgen import config_base
from jaxgen.data.base import TFDS_PREFIX, DataSpec, get_dataset, image_size_field
from jaxgen.data.images import ImageTransform
from jaxgen.errors import DataError

# Native (H, W, C) and number of classes of the file-backed sources with a fixed format.
_IMAGE_SOURCES = {"digits": ((8, 8, 1), 10), "mnist": ((28, 28, 1), 10),
                  "fashion_mnist": ((28, 28, 1), 10)}


def _tfds_spec(config: Any) -> DataSpec:
  """From the TFDS builder's metadata (dataset_info.json), as `build_tfds` derives it."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  name = config.name[len(TFDS_PREFIX):]
  data_dir = os.path.expanduser(config.data_dir) or None
  features = tfds.builder(name, data_dir=data_dir).info.features
  image_key, label_key = config.image_key, config.label_key
  if image_key not in features:
    raise DataError(f"dataset {config.name!r}: no feature {image_key!r}; set dataset.image_key")
  transform = ImageTransform(255.0, image_size_field(config), bool(config.center_crop))
  shape = tuple(features[image_key].shape)
  if None in shape[:2]:
    if not transform.image_size:
      raise DataError(f"dataset {config.name!r}: images have varying shape {shape}; set "
                      "dataset.image_size")
    out_shape = (transform.image_size, transform.image_size, shape[2])
  else:
    out_shape = transform.output_shape(shape)
  labeled = label_key in features and hasattr(features[label_key], "num_classes")
  return DataSpec(config.name, out_shape, int(features[label_key].num_classes) if labeled
                  else 0, "image")


def dataset_spec(config: Any) -> DataSpec:
  """What `get_dataset(config).spec` is, reading no examples.

  File-backed sources (digits, mnist, fashion_mnist, tfds:<name>) are described from
  their fixed format or metadata; the synthetic mixtures, which read no files, are built.
  """
  config = config_base.complete(config_base.dataset_defaults(), config)  # as get_dataset
  name = str(config.name)
  if name in _IMAGE_SOURCES:
    shape, num_classes = _IMAGE_SOURCES[name]
    transform = ImageTransform(1.0, image_size_field(config))
    return DataSpec(name, transform.output_shape(shape), num_classes, "image")
  if name.startswith(TFDS_PREFIX):
    return _tfds_spec(config)
  return get_dataset(config).spec
