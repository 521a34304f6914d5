"""Limited data (the 1437 training digits, 16x16): DCGAN vs DCGAN + DiffAugment vs
DCGAN + ADA at the same number of steps, evaluated with `jaxgen.evaluate` (FID-digits,
KID on jaxgen's digits classifier features), and ADA's p(t) as a PNG.

    nice -n 5 python experiments/zoo/ada_limited_data.py --workdir runs/ada_digits --steps 4000

Re-running skips finished runs. Prints a markdown table for experiments/zoo/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name -> overrides of configs/default.py (DCGAN on digits 16x16, batch 64).
VARIANTS = {
    "dcgan": [],
    "diffaug": ["--config.train.diffaug=color,translation,cutout"],
    # ada_kimg is shorter than the paper's 500 so p can move within a CPU budget.
    "ada": ["--config.train.ada_target=0.6", "--config.train.ada_kimg=20"],
}


def _run(cmd: list[str]) -> None:
  print("+", " ".join(cmd), flush=True)
  subprocess.run(cmd, check=True, cwd=REPO)


def train_and_evaluate(name: str, root: str, steps: int) -> dict:
  workdir = os.path.join(root, name)
  eval_path = os.path.join(workdir, "eval.json")
  if not os.path.exists(eval_path):
    _run([sys.executable, "-m", "jaxgen.main", "--config=configs/default.py",
          f"--workdir={workdir}", f"--config.train.num_steps={steps}",
          "--config.train.progress_bar=False", *VARIANTS[name]])
    _run([sys.executable, "-m", "jaxgen.evaluate", f"--workdir={workdir}"])
  with open(eval_path) as f:
    results = json.load(f)
  return results.get("metrics", results)


def read_p(workdir: str) -> tuple[list[int], list[float]]:
  steps, ps = [], []
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    for line in f:
      row = json.loads(line)
      if "ada_p" in row:
        steps.append(row["step"])
        ps.append(row["ada_p"])
  return steps, ps


def plot_p(workdir: str, path: str) -> None:
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  steps, ps = read_p(workdir)
  fig, ax = plt.subplots(figsize=(4, 3))
  ax.plot(steps, ps)
  ax.set_xlabel("generator step")
  ax.set_ylabel("ADA p")
  ax.set_title("ADA p(t), digits (1437 images)")
  fig.tight_layout()
  fig.savefig(path, dpi=100)


def _value(results: dict, base: str) -> str:
  for name, value in results.items():
    if (name == base or name.startswith(base + "_")) and not name.endswith("_std"):
      return f"{value:.3g}"
  return "-"


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--workdir", default="runs/ada_digits")
  parser.add_argument("--steps", type=int, default=4000)
  args = parser.parse_args()
  rows = {name: train_and_evaluate(name, args.workdir, args.steps) for name in VARIANTS}
  os.makedirs(os.path.join(REPO, "docs", "zoo"), exist_ok=True)
  plot_p(os.path.join(args.workdir, "ada"), os.path.join(REPO, "docs", "zoo", "ada_p.png"))
  print("| run | steps | FID-digits | KID | precision | recall |\n|---|---|---|---|---|---|")
  for name, results in rows.items():
    print(f"| {name} | {args.steps} | " + " | ".join(
        _value(results, m) for m in ("fid", "kid", "precision", "recall")) + " |")


if __name__ == "__main__":
  main()
