"""Mode coverage of the MLP GANs on ring8 / grid25 over losses x seeds, as one sweep each.

    python experiments/sweeps/losses.py --dataset ring8 --workdir runs/sweep_ring8
    python experiments/sweeps/losses.py --dataset grid25 --workdir runs/sweep_grid25

Trains configs/gan_<dataset>.py with loss.name in (ns, hinge, wgan_gp, lsgan) x 8 seeds
(`python -m jaxgen.sweep --config configs/gan_ring8.py --sweep.seeds=8
--sweep.loss.name=ns,hinge,wgan_gp,lsgan` does the same), then prints modes covered and
the high-quality fraction (2500 samples, VEEGAN/PacGAN protocol) as mean ± std over
seeds, and draws every run in docs/sweep_<dataset>.png.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time

from absl import logging

from jaxgen.sweeps import report, run_sweep

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOSSES = ["ns", "hinge", "wgan_gp", "lsgan"]
METRICS = ["modes_covered", "high_quality_fraction"]


def load_config(dataset: str):
  path = os.path.join(REPO, "configs", f"gan_{dataset}.py")
  spec = importlib.util.spec_from_file_location(f"gan_{dataset}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--dataset", choices=["ring8", "grid25"], required=True)
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--seeds", type=int, default=8)
  parser.add_argument("--steps", type=int, default=0, help="0 = the config's num_steps")
  parser.add_argument("--figure", default="", help="default: docs/sweep_<dataset>.png")
  args = parser.parse_args()
  logging.set_verbosity(logging.WARNING)

  config = load_config(args.dataset)
  if args.steps:
    config.train.num_steps = args.steps
  start = time.time()
  result = run_sweep(config, args.workdir, {"loss.name": LOSSES}, seeds=args.seeds,
                     plot_metrics=METRICS)
  seconds = time.time() - start
  figure = args.figure or os.path.join(REPO, "docs", f"sweep_{args.dataset}.png")
  report.plot(result.rows, ["loss.name"], METRICS, figure,
              title=f"{args.dataset} MLP GAN, {config.train.num_steps} steps, "
                    f"{args.seeds} seeds per loss")
  table = report.markdown_table(result.rows, ["loss.name"], METRICS)
  with open(os.path.join(args.workdir, "table.md"), "w", encoding="utf-8") as f:
    f.write(table + "\n")
  print(table)
  print(f"{len(result.rows)} runs x {config.train.num_steps} steps in {seconds:.0f} s; "
        f"figure {figure}")


if __name__ == "__main__":
  main()
