"""Clean vs PGD-AT vs IAAT: trains each config over seeds, measures clean and PGD-k accuracy.

    nice -n 5 python experiments/robustness/run_table.py --workdir runs/robustness \\
        --configs classifier_digits,pgd_at_digits,iaat_digits --seeds 0,1,2

Each run is `jaxgen.train.train_and_evaluate` (a finished run is not retrained, and its
robust evaluation is read back from <run>/robust_eval.json when the step and settings match);
accuracies are on the whole 'test' split with the config's `attack` settings
(jaxgen/metrics/robust.py). Writes <workdir>/results.json, table.md and the histogram of
the IAAT run's per-example eps (iaat_eps_hist.png, the first seed).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time

import jax
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from jaxgen import train  # noqa: E402
from jaxgen.data import get_dataset  # noqa: E402
from jaxgen.metrics import robust  # noqa: E402
from jaxgen.metrics.classifier import with_split  # noqa: E402
from jaxgen.sweeps.report import mean_std  # noqa: E402
from jaxgen.trainers import build_trainer  # noqa: E402


def load_config(name: str):
  path = os.path.join(REPO, "configs", name + ".py")
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


EVAL_CHUNK = 1000  # test examples per evaluation call


def run_one(name: str, seed: int, workdir: str, num_test: int = 0) -> tuple[dict, np.ndarray]:
  """Trains (or resumes) one run and returns (robust metrics on the test split, eps);
  num_test > 0 evaluates num_test of them only (the first of a fixed seed-0 permutation)."""
  config = load_config(name)
  config.seed = seed
  config.train.progress_bar = False
  start = time.time()
  state = train.train_and_evaluate(config, workdir)
  train_s = time.time() - start
  eps = np.asarray(jax.device_get(state.eps))
  cache = os.path.join(workdir, "robust_eval.json")
  step, settings = int(jax.device_get(state.step)), robust.settings(config)
  if os.path.exists(cache):  # this checkpoint was already evaluated with these settings
    with open(cache, encoding="utf-8") as f:
      saved = json.load(f)
    if (saved.get("step") == step and saved["metrics"].get("settings") == settings
        and saved.get("num_test_asked", 0) == num_test):
      return saved["metrics"], eps
  test = get_dataset(with_split(config.dataset, "test"))
  batch = test.sample(test.num_examples, seed=0)
  trainer = build_trainer(config, test.spec)
  evaluate = jax.jit(trainer.eval_metrics)
  # Chunks of EVAL_CHUNK examples (one chunk for the 360 test digits): PGD-100 on all 10000
  # Fashion-MNIST test images at once needs more memory than the machine has. Accuracies
  # are per-example means, so the chunk means weighted by chunk size give the whole set's.
  n = min(num_test, test.num_examples) if num_test > 0 else test.num_examples
  totals, key = {}, jax.random.PRNGKey(1000 + seed)
  for i, start in enumerate(range(0, n, EVAL_CHUNK)):
    chunk = {k: v[start:min(start + EVAL_CHUNK, n)] for k, v in batch.items()}
    chunk_key = key if n <= EVAL_CHUNK else jax.random.fold_in(key, i)  # digits: as before
    metrics = jax.device_get(evaluate(state, chunk, chunk_key))
    size = len(chunk["y"])
    for k, v in metrics.items():
      totals[k] = totals.get(k, 0.0) + float(v) * size
  out = {k: v / n for k, v in totals.items()}
  out.update(train_s=train_s, num_test=int(n), settings=settings)
  with open(cache, "w", encoding="utf-8") as f:
    json.dump({"step": step, "num_test_asked": num_test, "metrics": out}, f, indent=2)
  return out, eps


def table(results: dict[str, list[dict]]) -> str:
  first = next(iter(results.values()))[0]
  keys = ["accuracy"] + sorted((k for k in first if k.startswith("pgd")),
                               key=lambda k: int(k[3:].split("_")[0]))
  lines = ["| config | n | " + " | ".join(keys) + " |",
           "|---|---|" + "---|" * len(keys)]
  for name, runs in results.items():
    cells = [mean_std([r[k] for r in runs], ".3f", with_n=False) for k in keys]
    lines.append(f"| {name} | {len(runs)} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def eps_histogram(eps: np.ndarray, base_eps: float, path: str) -> None:
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(5, 3.2))
  ax.hist(eps, bins=40, color="tab:blue")
  ax.axvline(base_eps, color="k", ls="--", label=f"PGD-AT eps {base_eps}")
  ax.set_xlabel("per-example eps at the end of training ([-1, 1] scale)")
  ax.set_ylabel("training examples")
  ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--workdir", default="runs/robustness")
  parser.add_argument("--configs", default="classifier_digits,pgd_at_digits,iaat_digits")
  parser.add_argument("--seeds", default="0,1,2")
  parser.add_argument("--num_test", type=int, default=0,
                      help="evaluate N test examples, the same fixed random subset for "
                           "every run (0 = the whole split)")
  args = parser.parse_args()
  os.makedirs(args.workdir, exist_ok=True)
  seeds = [int(s) for s in args.seeds.split(",")]
  results: dict[str, list[dict]] = {}
  path = os.path.join(args.workdir, "results.json")
  for name in args.configs.split(","):
    for seed in seeds:
      metrics, eps = run_one(name, seed, os.path.join(args.workdir, f"{name}_seed{seed}"),
                             args.num_test)
      results.setdefault(name, []).append({"seed": seed, **metrics})
      print(json.dumps({"config": name, "seed": seed, **metrics}), flush=True)
      if eps.size > 1 and seed == seeds[0]:  # an IAAT run
        np.save(os.path.join(args.workdir, f"{name}_eps.npy"), eps)
        eps_histogram(eps, metrics["settings"]["eps"],
                      os.path.join(args.workdir, f"{name}_eps_hist.png"))
      with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
  text = table(results)
  with open(os.path.join(args.workdir, "table.md"), "w", encoding="utf-8") as f:
    f.write(text + "\n")
  print(text)


if __name__ == "__main__":
  main()
