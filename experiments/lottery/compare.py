"""IMP tickets against random pruning, random reinit, SNIP and GraSP, over seeds.

    python experiments/lottery/compare.py --config configs/lottery/imp_dcgan_digits.py \
        --workdir runs/lottery/dcgan_digits --seeds 0,1,2 --rounds 10

For every seed: IMP (`pruning.method=imp`), then the baselines at IMP's per-round
sparsities: `random` (IMP's per-layer counts at random positions) and `reinit` (IMP's
masks on another initialisation) reuse the seed's IMP masks; `snip` and `grasp` score
the rewind point; `transfer` takes the masks of the config's pruning.reference (e.g.
configs/lottery/transfer_gan_to_vae_digits.py). Runs live in <workdir>/seed<s>/<method>
and resume; `--set field=value` overrides the config (e.g. --set pruning.scope=g).
Writes <workdir>/table_<metric>.md (the headline metric, or --metric, per round: mean ±
std (ddof=1) and n over the seeds of every run found under <workdir>, so calls for other seeds or
methods add up) and <workdir>/sparsity_vs_<metric>.png (or --figure). `--methods ''`
only tabulates and plots.
"""

from __future__ import annotations

import argparse
import ast
import collections
import importlib.util
import os

from absl import logging
import numpy as np

from jaxgen.pruning import imp
from jaxgen.sweeps.report import mean_std, sample_std

METHODS = ("imp", "random", "reinit", "snip", "grasp", "transfer")


def load_config(path: str):
  spec = importlib.util.spec_from_file_location("lottery_config", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def apply_overrides(config, overrides: list[str]):
  """Sets dotted `field=value` overrides (values parsed as Python literals, else strings)."""
  for item in overrides:
    field, _, text = item.partition("=")
    try:
      value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
      value = text
    *parents, leaf = field.split(".")
    node = config
    for name in parents:
      node = node[name]
    node[leaf] = value
  return config


def run_method(path: str, workdir: str, seed: int, rounds: int, method: str,
               overrides: list[str]) -> list[dict]:
  """One pruning run of the config at `path`; baselines reuse the seed's IMP masks."""
  config = apply_overrides(load_config(path), overrides)
  config.seed = seed
  config.pruning.rounds = rounds
  config.pruning.method = method
  if method in ("random", "reinit"):
    config.pruning.reference = os.path.join(workdir, f"seed{seed}", "imp")
  elif method == "transfer" and not config.pruning.reference:
    raise SystemExit("--methods transfer needs a config whose pruning.reference names the "
                     "other model's IMP run")
  return imp.run(config, os.path.join(workdir, f"seed{seed}", method))


def collect(workdir: str) -> dict[str, dict[int, list[dict]]]:
  """{method: {seed: records}} of every run under <workdir>/seed<s>/<method>, in METHODS order."""
  runs: dict[str, dict[int, list[dict]]] = {}
  for method in METHODS:
    for name in sorted(os.listdir(workdir)):
      records = imp.read_records(os.path.join(workdir, name, method))
      if name.startswith("seed") and records:
        runs.setdefault(method, {})[int(name[4:])] = records
  return runs


def headline(records: list[dict]) -> str:
  """The plotted metric: the first quality metric of a record (imp.run puts it first)."""
  known = {"round", "method", "target_sparsity", "sparsity", "wall_time_s", "flops_ratio"}
  return next(k for k in records[-1] if k not in known and not k.startswith(
      ("sparsity_", "flops_")))


def summarise(runs: dict[str, dict[int, list[dict]]], metric: str) -> str:
  """Markdown table: per round, sparsity, FLOPs and mean ± std (ddof=1, n) per method."""
  methods = list(runs)
  by_round: dict[int, dict] = collections.defaultdict(dict)
  for method, seeds in runs.items():
    for records in seeds.values():
      for r in records:
        row = by_round[r["round"]]
        row.setdefault("sparsity", r["sparsity"])
        row.setdefault("flops", r["flops_ratio"])
        row.setdefault(method, []).append(r[metric])
        if abs(r["sparsity"] - row["sparsity"]) > 0.005:  # e.g. a transferred ticket
          row[method + "_at"] = r["sparsity"]
  lines = [f"| round | sparsity | FLOPs | {' | '.join(methods)} |",
           "|---" * (3 + len(methods)) + "|"]
  for rnd in sorted(by_round):
    row = by_round[rnd]
    cells = [str(rnd), f"{100 * row['sparsity']:.1f}%", f"{100 * row['flops']:.1f}%"]
    for method in methods:
      values = row.get(method)
      cells.append(mean_std(values, ".2f") if values else "-")
      if method + "_at" in row:
        cells[-1] += f" (at {100 * row[method + '_at']:.1f}%)"
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def plot(runs: dict[str, dict[int, list[dict]]], metric: str, path: str, title: str) -> None:
  """Mean ± std (ddof=1) of `metric` against sparsity, one line per method."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  fig, ax = plt.subplots(figsize=(5.5, 3.8))
  for method, seeds in runs.items():
    rounds = sorted({r["round"] for records in seeds.values() for r in records})
    xs, means, stds = [], [], []
    for rnd in rounds:
      values = [r[metric] for records in seeds.values() for r in records if r["round"] == rnd]
      xs.append(100 * next(r["sparsity"] for records in seeds.values() for r in records
                           if r["round"] == rnd))
      means.append(np.mean(values))
      stds.append(sample_std(values))
    ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=method)
  ax.set_xlabel("sparsity (%)")
  ax.set_ylabel(metric)
  ax.set_title(title, fontsize=9)
  ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--config", required=True)
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--seeds", default="0")
  parser.add_argument("--rounds", type=int, default=10)
  parser.add_argument("--methods", default=",".join(METHODS[:3]),
                      help=f"comma-separated subset of {','.join(METHODS)} (imp first); "
                      "'' only tabulates and plots the runs already in --workdir")
  parser.add_argument("--figure", default="")
  parser.add_argument("--metric", default="", help="table/plot metric; default the headline")
  parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                      help="config override, e.g. --set pruning.scope=g (repeatable)")
  args = parser.parse_args()
  logging.set_verbosity(logging.WARNING)
  methods = [m for m in args.methods.split(",") if m]
  unknown = sorted(set(methods) - set(METHODS))
  if unknown:
    raise SystemExit(f"unknown --methods {unknown}; choose from: {', '.join(METHODS)}")
  seeds = [int(s) for s in args.seeds.split(",")]
  runs: dict[str, dict[int, list[dict]]] = {m: {} for m in methods}
  for seed in seeds:
    for method in methods:
      runs[method][seed] = run_method(args.config, args.workdir, seed, args.rounds, method,
                                      args.set)
  runs = collect(args.workdir)  # also the runs of earlier calls (other seeds or methods)
  if not runs:
    raise SystemExit(f"no runs under {args.workdir}")
  metric = args.metric or headline(next(iter(next(iter(runs.values())).values())))
  table = summarise(runs, metric)
  with open(os.path.join(args.workdir, f"table_{metric}.md"), "w", encoding="utf-8") as f:
    f.write(table + "\n")
  print(table)
  figure = args.figure or os.path.join(args.workdir, f"sparsity_vs_{metric}.png")
  seeds_run = sorted({s for by_seed in runs.values() for s in by_seed})
  plot(runs, metric, figure, " ".join([os.path.basename(args.config), *args.set,
                                       f"seeds {','.join(map(str, seeds_run))}"]))
  print(f"figure {figure}")


if __name__ == "__main__":
  main()
