"""Limited data: DCGAN vs DCGAN + DiffAugment vs DCGAN + ADA at the same number of steps,
evaluated with `jaxgen.evaluate` (FID-<dataset>, KID on jaxgen's classifier features,
against the whole training split), and ADA's p(t) as a PNG.

    nice -n 5 python experiments/zoo/ada_limited_data.py --workdir runs/ada_digits --steps 4000
    nice -n 5 python experiments/zoo/ada_limited_data.py --config configs/dcgan_fashion_mnist.py \
        --train_examples 1000 --workdir runs/ada_fm1k --steps 1000

The default is the 1437 training digits at 16x16 (configs/default.py); `--train_examples N`
trains on a fixed random N-image subset (`dataset.train_examples`).

Re-running skips finished runs. Prints a markdown table for experiments/zoo/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name -> overrides of the base config (--config; DCGAN).
VARIANTS = {
    "dcgan": [],
    "diffaug": ["--config.train.diffaug=color,translation,cutout"],
    # ada_kimg is shorter than the paper's 500 so p can move within a CPU budget.
    "ada": ["--config.train.ada_target=0.6", "--config.train.ada_kimg=20"],
}


def _run(cmd: list[str]) -> None:
  print("+", " ".join(cmd), flush=True)
  subprocess.run(cmd, check=True, cwd=REPO)


def train_and_evaluate(name: str, root: str, steps: int, config: str,
                       train_examples: int) -> dict:
  workdir = os.path.join(root, name)
  eval_path = os.path.join(workdir, "eval.json")
  if not os.path.exists(eval_path):
    _run([sys.executable, "-m", "jaxgen.main", f"--config={config}",
          f"--workdir={workdir}", f"--config.train.num_steps={steps}",
          f"--config.dataset.train_examples={train_examples}",
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


def plot_p(workdir: str, path: str, title: str) -> None:
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  steps, ps = read_p(workdir)
  fig, ax = plt.subplots(figsize=(4, 3))
  ax.plot(steps, ps)
  ax.set_xlabel("generator step")
  ax.set_ylabel("ADA p")
  ax.set_title(title, fontsize=9)
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
  parser.add_argument("--config", default="configs/default.py")
  parser.add_argument("--train_examples", type=int, default=0, help="0 = the whole split")
  parser.add_argument("--plot", default="docs/zoo/ada_p.png", help="p(t) figure, repo-relative")
  args = parser.parse_args()
  rows = {name: train_and_evaluate(name, args.workdir, args.steps, args.config,
                                   args.train_examples) for name in VARIANTS}
  with open(os.path.join(args.workdir, "ada", "config.json")) as f:
    dataset = json.load(f)["dataset"]["name"]
  images = args.train_examples or "all"
  os.makedirs(os.path.dirname(os.path.join(REPO, args.plot)), exist_ok=True)
  plot_p(os.path.join(args.workdir, "ada"), os.path.join(REPO, args.plot),
         f"ADA p(t), {dataset}, {images} training images")
  print(f"| run | images | steps | FID-{dataset} | KID | precision | recall |\n"
        "|---|---|---|---|---|---|---|")
  for name, results in rows.items():
    print(f"| {name} | {images} | {args.steps} | " + " | ".join(
        _value(results, m) for m in ("fid", "kid", "precision", "recall")) + " |")


if __name__ == "__main__":
  main()
