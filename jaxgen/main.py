"""Command-line entry point: `python -m jaxgen.main --config configs/X.py --workdir DIR`.

Any config field can be overridden on the command line, e.g. `--config.train.num_steps=500`.
"""

from __future__ import annotations

import os
import sys

from absl import app, flags, logging
from ml_collections import config_flags

_DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                               "configs", "default.py")

_CONFIG = config_flags.DEFINE_config_file(
    "config", _DEFAULT_CONFIG, "Training configuration file (a get_config() module).",
    lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Directory for checkpoints, logs and samples "
    "(default: runs/<config name>). Re-running with the same workdir resumes.")
_DISTRIBUTED = flags.DEFINE_bool(
    "distributed", False, "Call jax.distributed.initialize() first (multi-host pods).")


def default_workdir(config_path: str) -> str:
  name = os.path.splitext(os.path.basename(config_path.split(":")[0]))[0]
  return os.path.join("runs", name)


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)  # Orbax logs every save at INFO.
  import jax
  if _DISTRIBUTED.value:
    jax.distributed.initialize()
  from jaxgen import train
  from jaxgen.checkpoint import CheckpointError

  workdir = _WORKDIR.value or default_workdir(flags.FLAGS["config"].config_filename)
  try:
    experiment = _CONFIG.value.get("experiment", "")
    if experiment == "lottery":
      from jaxgen.pruning import imp
      imp.run(_CONFIG.value, workdir)
    elif experiment == "early_bird":
      from jaxgen.pruning import early_bird_run
      early_bird_run.run(_CONFIG.value, workdir)
    else:
      train.train_and_evaluate(_CONFIG.value, workdir)
  except (ValueError, FileNotFoundError, CheckpointError, train.TrainingDiverged) as e:
    # Bad input and divergence end with one line naming the problem, not a traceback.
    print(f"jaxgen: error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)
