"""Trains the offline feature classifier behind FID-<dataset> and the other classifier metrics.

    python -m jaxgen.metrics.train_classifier --dataset=digits --image_size=16 --out=DIR

Writes DIR/params.npz and DIR/meta.json; point `--config.eval.feature_net_dir=DIR` at it
(or omit --out to fill the cache that evaluation reads by default).
"""

from __future__ import annotations

import json
import sys

from absl import app, flags, logging
import ml_collections

from jaxgen.errors import ConfigError, UserError

_DATASET = flags.DEFINE_string("dataset", "digits", "Labelled image dataset (dataset.name).")
_IMAGE_SIZE = flags.DEFINE_integer("image_size", 16, "Square image side; 0 = native size.")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "dataset.data_dir; '' = the source's default.")
_OUT = flags.DEFINE_string("out", "", "Output directory; '' = the evaluation cache "
                           "($JAXGEN_CACHE or ~/.cache/jaxgen)/feature_nets/<dataset>_<H>x<W>.")
_STEPS = flags.DEFINE_integer("steps", 1000, "Training steps.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 128, "Batch size.")
_LR = flags.DEFINE_float("learning_rate", 1e-3, "Adam learning rate.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of init and data order (same seed, same net).")


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)
  from jaxgen.data import get_dataset
  from jaxgen.metrics import classifier, feature_nets

  dataset_config = ml_collections.ConfigDict(dict(
      name=_DATASET.value, data_dir=_DATA_DIR.value, split="train",
      image_size=_IMAGE_SIZE.value))
  try:
    out = _OUT.value or feature_nets.default_classifier_dir(get_dataset(dataset_config).spec)
    if classifier.is_saved(out):
      raise ConfigError(f"{out} already holds a classifier; delete it or choose another --out")
    trained = classifier.train_classifier(
        dataset_config, steps=_STEPS.value, batch_size=_BATCH_SIZE.value,
        learning_rate=_LR.value, seed=_SEED.value)
    classifier.save_classifier(out, trained)
  except UserError as e:  # bugs keep their traceback
    print(f"jaxgen: error: {e}", file=sys.stderr)
    sys.exit(1)
  print(json.dumps({"out": out, **trained.meta}))


if __name__ == "__main__":
  app.run(main)
