"""Datasets by name: `get_dataset(config.dataset)` gives a seekable stream of numpy batches.

Importing this package registers every source; TensorFlow is imported only when a
`tfds:<name>` dataset is built.
"""

from jaxgen.data import digits as _digits  # noqa: F401  (registers 'digits')
from jaxgen.data import idx as _idx  # noqa: F401  ('fashion_mnist', 'mnist')
from jaxgen.data import mixtures as _mixtures  # noqa: F401  ('ring8', 'grid25', 'mixture')
from jaxgen.data import tfds_source as _tfds_source  # noqa: F401  ('tfds:<name>')
from jaxgen.data import domains as _domains  # noqa: F401  ('domain_adaptation', shifted domains)
from jaxgen.data import multi_source as _multi_source  # noqa: F401  ('multi_source': CMSS, DMG)
from jaxgen.data import scenes as _scenes  # noqa: F401  ('scenes': LSD-seg segmentation)
from jaxgen.data import class_mixture as _class_mixture  # noqa: F401  (NW-GAN image mixtures)
from jaxgen.data.base import DATASETS, Batch, DataSpec, Dataset, get_dataset

__all__ = ["DATASETS", "Batch", "DataSpec", "Dataset", "get_dataset"]
