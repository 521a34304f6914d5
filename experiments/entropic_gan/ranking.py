"""Entropic GAN surrogate likelihoods rank held-out digits > Fashion-MNIST > noise.

    python experiments/entropic_gan/ranking.py --workdir runs/entropic_digits --num_steps 600
    python experiments/entropic_gan/ranking.py --table 'runs/entropic_digits_seed*'

Trains configs/entropic_digits.py (16x16 digits), then computes the surrogate
(`entropic_log_likelihood`, per example) of 300 held-out digits (the test split), 300
Fashion-MNIST test images at 16x16 and 300 uniform-noise images in [-1, 1]; prints
mean +- std (ddof=1) per set and the share of (a, b) pairs the surrogate orders a > b.
`--table GLOB` prints the mean +- std (ddof=1) over the runs of those workdirs.
"""

from __future__ import annotations

import argparse
import glob
import json
import os

import jax
import ml_collections
import numpy as np

from jaxgen import data, train
from jaxgen.trainers import build_trainer

from likelihood_2d import load_config  # pylint: disable=wrong-import-position


def table(pattern: str) -> str:
  """Over the ranking.json files of the workdirs matching `pattern`: per set, the mean over
  runs of the per-run mean surrogate, and the pair shares, as mean +- std (ddof=1), n."""
  runs = []
  for path in sorted(glob.glob(os.path.join(pattern, "ranking.json"))):
    with open(path, encoding="utf-8") as f:
      runs.append(json.load(f))
  if not runs:
    raise SystemExit(f"no ranking.json under {pattern!r}")
  stat = lambda v: (f"{np.mean(v):.3f} ± {np.std(v, ddof=1):.3f}" if len(v) > 1
                    else f"{v[0]:.3f}")
  lines = [f"n = {len(runs)} runs ({runs[0]['num_steps']} steps, {runs[0]['n']} examples "
           "per set)", "", "| quantity | mean ± std over runs | per run |", "|---|---|---|"]
  for group in ("mean", "pairs_ordered"):
    for name in runs[0][group]:
      values = [r[group][name] for r in runs]
      label = f"surrogate of {name}" if group == "mean" else f"pairs ordered {name}"
      lines.append(f"| {label} | {stat(values)} | "
                   + " / ".join(f"{v:.3f}" for v in values) + " |")
  return "\n".join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", default="", help="required unless --table")
  parser.add_argument("--num_steps", type=int, default=600)
  parser.add_argument("--num_examples", type=int, default=300)
  parser.add_argument("--seed", type=int, default=0, help="config.seed of the training")
  parser.add_argument("--table", default="", help="print the table over these workdirs")
  args = parser.parse_args()
  if args.table:
    print(table(args.table))
    return
  if not args.workdir:
    parser.error("--workdir is required (unless --table)")
  config = load_config("entropic_digits")
  config.seed = args.seed
  config.train.num_steps = args.num_steps
  config.train.checkpoint_every = args.num_steps
  config.train.sample_every = args.num_steps
  config.train.progress_bar = False
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  state = train.train_and_evaluate(config, args.workdir)
  n = args.num_examples
  digits_test = data.get_dataset(ml_collections.ConfigDict(
      {**config.dataset.to_dict(), "split": "test"})).sample(n, seed=1)["x"]
  fashion = data.get_dataset(ml_collections.ConfigDict(
      {**config.dataset.to_dict(), "name": "fashion_mnist", "split": "test"})).sample(
          n, seed=1)["x"]
  noise = np.random.default_rng(0).uniform(-1, 1, digits_test.shape).astype(np.float32)
  surrogate = jax.jit(lambda x, key: trainer.eval_metrics(state, {"x": x}, key)[
      "entropic_log_likelihood"])
  key = jax.random.PRNGKey(5)
  sets = {"digits (held out)": digits_test, "fashion_mnist": fashion, "uniform noise": noise}
  values = {name: np.concatenate([np.asarray(surrogate(x[i:i + 100], key))
                                  for i in range(0, len(x), 100)]) for name, x in sets.items()}
  names = list(values)
  result = {"num_steps": args.num_steps, "n": n, "seed": args.seed,
            "mean": {k: float(v.mean()) for k, v in values.items()},
            "std": {k: float(v.std(ddof=1)) for k, v in values.items()},
            "pairs_ordered": {f"{a} > {b}": float((values[a][:, None] > values[b][None]).mean())
                              for a, b in zip(names, names[1:])}}
  with open(os.path.join(args.workdir, "ranking.json"), "w", encoding="utf-8") as f:
    json.dump(result, f, indent=1)
  print(json.dumps(result))


if __name__ == "__main__":
  main()
