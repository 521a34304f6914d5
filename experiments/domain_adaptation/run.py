"""Domain-adaptation tables: target accuracy of each method, model selection on source
validation only (DomainBed), mean ± sample std (ddof=1) over seeds.

    python experiments/domain_adaptation/run.py --task digits --seeds 0,1,2 --steps 300

Tasks: digits = SynDigits -> scikit-learn digits; fashion = Fashion-MNIST ->
Fashion-MNIST-M; nw3 / nw5 / nw10 = Fashion-MNIST -> Fashion-MNIST-M with the NW paper's
label shifts. Results are appended to <out>/<task>.jsonl and printed as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import driver  # noqa: E402  pylint: disable=g-import-not-at-top

from jaxgen.config_base import domain_adaptation_config  # noqa: E402
from jaxgen.sweeps.report import mean_std  # noqa: E402

TASKS = {
    "digits": ("syn_digits", "digits", ""),
    "fashion": ("fashion_mnist", "fashion_mnist_m", ""),
    "nw3": ("fashion_mnist", "fashion_mnist_m", "nw3"),
    "nw5": ("fashion_mnist", "fashion_mnist_m", "nw5"),
    "nw10": ("fashion_mnist", "fashion_mnist_m", "nw10"),
}
DEFAULT_METHODS = {"digits": "da_source_only,dann,gta,da_oracle",
                   "fashion": "da_source_only,dann,gta,da_oracle"}


def make_config(method: str, task: str, seed: int, steps: int, image_size: int, data_dir: str):
  source, target, shift = TASKS[task]
  config = domain_adaptation_config(method, source, target, num_steps=steps,
                                    image_size=image_size)
  config.seed = seed
  config.dataset.label_shift = shift
  config.dataset.data_dir = data_dir
  if method == "gta":  # the paper's optimizer: Adam 5e-4, b1 0.8
    for net in config.optim:
      config.optim[net].update(lr=5e-4, b1=0.8)
  return config


def percent(values: list[float]) -> str:
  """Mean ± sample std (ddof=1) in percent; the n is the table's own column."""
  return mean_std([100 * v for v in values], ".1f", with_n=False)


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--task", choices=sorted(TASKS), required=True)
  parser.add_argument("--methods", default="")
  parser.add_argument("--seeds", default="0")
  parser.add_argument("--steps", type=int, default=300)
  parser.add_argument("--evals", type=int, default=6, help="evaluations per run")
  parser.add_argument("--image_size", type=int, default=16)
  parser.add_argument("--data_dir", default="", help="Fashion-MNIST IDX directory")
  parser.add_argument("--out", default="runs/domain_adaptation")
  args = parser.parse_args()
  methods = (args.methods or DEFAULT_METHODS.get(args.task, "da_source_only,dann,w_align,"
                                                 "nw_adapt")).split(",")
  os.makedirs(args.out, exist_ok=True)
  rows = {}
  for method in methods:
    for seed in [int(s) for s in args.seeds.split(",")]:
      config = make_config(method, args.task, seed, args.steps, args.image_size, args.data_dir)
      result = driver.run(config, eval_every=args.steps // args.evals)
      result.update(task=args.task, method=method, seed=seed, steps=args.steps,
                    image_size=args.image_size)
      with open(os.path.join(args.out, f"{args.task}.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(result) + "\n")
      print(method, seed, {k: v for k, v in result.items() if k != "history"}, flush=True)
      rows.setdefault(method, []).append(result)
  print("\n| method | target acc. (selected on source val.) | target acc. (last step) | "
        "source val. acc. | n |")
  print("|---|---|---|---|---|")
  for method, results in rows.items():
    print(f"| {method} | {percent([r['selected_target_acc'] for r in results])} | "
          f"{percent([r['final_target_acc'] for r in results])} | "
          f"{percent([r['selected_src_val_acc'] for r in results])} | {len(results)} |")


if __name__ == "__main__":
  main()
