"""Command-line entry point: `python -m jaxgen.main --config configs/X.py --workdir DIR`.

Any config field can be overridden on the command line, e.g. `--config.train.num_steps=500`.
"""

from __future__ import annotations

import sys

from absl import app, flags, logging

from jaxgen import cli
from jaxgen.errors import ConfigError, UserError
from jaxgen.cli import default_workdir  # noqa: F401  (part of this module's API)


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)  # Orbax logs every save at INFO.
  workdir = cli.workdir()
  config = cli.CONFIG.value
  try:
    experiment = config.experiment
    if experiment in ("lottery", "early_bird") and (cli.DISTRIBUTED.value
                                                    or cli.launch_args()):
      raise ConfigError(f"experiment={experiment!r} runs in one process only; launch it "
                        "without --distributed and the multi-process flags")
    cli.initialize_distributed()  # before anything touches a device
  except UserError as e:
    print(f"jaxgen: error: {e}", file=sys.stderr)
    sys.exit(1)
  from jaxgen import train

  try:
    if experiment == "lottery":
      from jaxgen.pruning import imp
      imp.run(config, workdir)
    elif experiment == "early_bird":
      from jaxgen.pruning import early_bird_run
      early_bird_run.run(config, workdir)
    else:
      train.train_and_evaluate(config, workdir)
  except train.TrainingInterrupted as e:
    print(f"jaxgen: {e}", file=sys.stderr)
    sys.exit(e.exit_code)
  except (UserError, train.TrainingDiverged) as e:
    # Bad input and divergence end with one line naming the problem; bugs keep their
    # traceback.
    print(f"jaxgen: error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)
