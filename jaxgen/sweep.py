"""Command line for ablation sweeps: many runs of one config in one compiled program.

    python -m jaxgen.sweep --config configs/gan_ring8.py --workdir runs/ring8_losses \\
        --sweep.seeds=8 --sweep.loss.name=ns,hinge,wgan_gp,lsgan

`--sweep.<field>=v1,v2,...` sweeps a config field (the grid is the product of all
listed values and the seeds); `--sweep.seeds=N` trains seeds config.seed ... +N-1 and
`--sweep.seed=a,b` lists them. `--config.<field>=v` overrides work as in jaxgen.main.
"""

from __future__ import annotations

import os
import sys

from absl import app, flags, logging

from jaxgen import cli
from jaxgen.errors import ConfigError, UserError

_METRIC = flags.DEFINE_list(
    "metric", None, "summary.csv columns to plot in sweep.png (default: modes_covered, "
    "high_quality_fraction for 2-D mixtures, else g_loss, d_loss).")

_PREFIX = "--sweep."


def split_sweep_args(argv: list[str]) -> tuple[dict[str, str], list[str]]:
  """Pulls `--sweep.<field>=values` (or `--sweep.<field> values`) out of argv."""
  sweep, rest, i = {}, [], 0
  while i < len(argv):
    arg = argv[i]
    if arg.startswith(_PREFIX):
      name, eq, value = arg[len(_PREFIX):].partition("=")
      if not eq:
        if i + 1 >= len(argv):
          raise ConfigError(f"{arg} needs values, e.g. {arg}=a,b")
        value, i = argv[i + 1], i + 1
      if name in sweep:
        raise ConfigError(f"--sweep.{name} is given twice")
      sweep[name] = value
    else:
      rest.append(arg)
    i += 1
  return sweep, rest


def _parse_flags(argv: list[str]) -> list[str]:
  """absl parses everything but the --sweep.* arguments, which are passed on to main."""
  try:
    sweep, rest = split_sweep_args(argv)
  except UserError as e:
    print(f"jaxgen.sweep: error: {e}", file=sys.stderr)
    sys.exit(1)
  return app.parse_flags_with_usage(rest) + [f"{_PREFIX}{k}={v}" for k, v in sweep.items()]


def main(argv: list[str]) -> None:
  sweep_args, extra = split_sweep_args(argv[1:])
  if extra:
    raise app.UsageError(f"unexpected arguments: {' '.join(extra)}")
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)  # Orbax logs every save at INFO.
  from jaxgen.sweeps import parse_values, run_sweep

  config = cli.CONFIG.value
  workdir = cli.workdir("_sweep")
  try:
    if cli.DISTRIBUTED.value or cli.launch_args():
      raise ConfigError("jaxgen.sweep runs in one process (its runs are spread over the "
                        "devices of one host); drop --distributed and the launch flags")
    seeds = None
    if "seeds" in sweep_args:
      seeds = parse_values(config, "seed", sweep_args["seeds"])
      if len(seeds) != 1:
        raise ConfigError("--sweep.seeds is a count (e.g. 8); list seeds with --sweep.seed")
      seeds = seeds[0]
    fields = {name: parse_values(config, name, text)
              for name, text in sweep_args.items() if name != "seeds"}
    result = run_sweep(config, workdir, fields, seeds, _METRIC.value)
  except UserError as e:
    print(f"jaxgen.sweep: error: {e}", file=sys.stderr)  # one line, not a traceback
    sys.exit(1)
  print(f"{len(result.rows)} runs in {len(result.grid.groups)} program(s); "
        f"{os.path.join(workdir, 'summary.csv')}, {os.path.join(workdir, 'sweep.png')}")


if __name__ == "__main__":
  app.run(main, flags_parser=_parse_flags)
