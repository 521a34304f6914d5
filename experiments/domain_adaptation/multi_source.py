"""Multi-source leave-one-domain-out: ERM, DANN, CMSS (target unlabelled) and DMG (target
unseen), model selection on source validation only (DomainBed), mean +- std over seeds.

    nice -n 5 python experiments/domain_adaptation/multi_source.py --methods cmss --seeds 0
    python experiments/domain_adaptation/multi_source.py --table   # table + weight plot

Each run appends to <out>/multi_source_<set>_<held_out>.jsonl; `--table` prints the
markdown table of everything recorded there and plots CMSS's mean weight per source.
Evaluation uses the trainer's own eval_metrics (DMG: own masks on source validation, the
mean mask on the unseen target) on the first --eval_examples of each held-out split.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import data
from jaxgen.config_base import multi_source_config
from jaxgen.metrics.classifier import with_split
from jaxgen.trainers import build_trainer


def held_out(config, n: int) -> dict[str, np.ndarray]:
  """The first n source-validation (random order) and target-test examples."""
  test = data.get_dataset(with_split(config.dataset, "test"))
  src = np.random.default_rng(0).permutation(test.num_source)[:n]
  return test._gather(src, np.arange(min(n, test.num_examples)))  # pylint: disable=protected-access


def evaluate(eval_fn, state, evalset: dict, chunk: int = 500) -> dict[str, float]:
  """eval_metrics averaged over equal chunks of the held-out examples."""
  n = min(len(evalset["y"]), len(evalset["y_t"])) // chunk * chunk
  totals: dict[str, float] = {}
  for i in range(0, n, chunk):
    m = eval_fn(state, {k: v[i:i + chunk] for k, v in evalset.items()})
    for k, v in m.items():
      totals[k] = totals.get(k, 0.0) + float(v) * chunk / n
  return totals


def run(config, evals: int, eval_examples: int, chunk: int = 50) -> dict:
  """Trains `config`; the evaluation history and the source-validation-selected result."""
  start = time.time()
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  evalset = held_out(config, eval_examples)
  state = jax.jit(trainer.init)(jax.random.PRNGKey(config.seed))
  eval_fn = jax.jit(lambda s, b: trainer.eval_metrics(s, b, jax.random.PRNGKey(0)))

  @jax.jit
  def steps(state, batch):
    state, metrics = jax.lax.scan(trainer.train_step, state, batch)
    return state, jax.tree.map(jnp.mean, metrics)

  stream = dataset.batches(config.train.batch_size, seed=config.seed)
  every = config.train.num_steps // evals
  history, train_log = [], []
  for step in range(chunk, config.train.num_steps + 1, chunk):
    group = [next(stream) for _ in range(chunk)]
    batch = {k: np.stack([b[k] for b in group])[:, None] for k in group[0]}
    state, metrics = steps(state, batch)
    train_log.append(dict(step=step, **{k: float(v) for k, v in metrics.items()}))
    if step % every == 0:
      history.append(dict(step=step, **evaluate(eval_fn, state, evalset)))
      print(history[-1], flush=True)
  best = max(history, key=lambda h: h["src_val_acc"])  # first best on ties
  return dict(selected_target_acc=best["target_acc"], selected_step=best["step"],
              selected_src_val_acc=best["src_val_acc"],
              final_target_acc=history[-1]["target_acc"], history=history,
              train_log=train_log, sources=list(dataset.source_names),
              seconds=time.time() - start)


def mean_std(values: list[float]) -> str:
  if len(values) == 1:
    return f"{100 * values[0]:.1f}"
  return f"{100 * np.mean(values):.1f} ± {100 * np.std(values, ddof=1):.1f}"


def table(path: str, plot: str) -> None:
  """Markdown table over the recorded runs; CMSS's weights per source domain as a plot."""
  with open(path, encoding="utf-8") as f:
    runs = [json.loads(line) for line in f]
  print("| method | target acc. (selected on source val.) | target acc. (last) | "
        "source val. acc. | n | wall per run |")
  print("|---|---|---|---|---|---|")
  for method in dict.fromkeys(r["method"] for r in runs):
    rs = [r for r in runs if r["method"] == method]
    print(f"| {method} | {mean_std([r['selected_target_acc'] for r in rs])} | "
          f"{mean_std([r['final_target_acc'] for r in rs])} | "
          f"{mean_std([r['selected_src_val_acc'] for r in rs])} | {len(rs)} | "
          f"{np.mean([r['seconds'] for r in rs]):.0f} s |")
  cmss = [r for r in runs if r["method"] == "cmss"]
  if not cmss:
    return
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(5.5, 3.5))
  for k, name in enumerate(cmss[0]["sources"]):
    w = np.mean([[t[f"weight_src{k}"] for t in r["train_log"]] for r in cmss], 0)
    ax.plot([t["step"] for t in cmss[0]["train_log"]], w, label=name.replace("fashion_mnist_", ""))
    print(f"{name}: mean weight over the last quarter {np.mean(w[-len(w) // 4:]):.3f}")
  ax.axhline(1.0, color="grey", lw=0.5)
  ax.set(xlabel="step", ylabel="mean B * w per source (1 = uniform)",
         title=f"CMSS weights, target {cmss[0]['held_out']} (n={len(cmss)} seeds)")
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(plot, dpi=120)
  print("wrote", plot)


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--domain_set", default="rotated")
  parser.add_argument("--held_out", default="fashion_mnist_rot75")
  parser.add_argument("--methods", default="da_source_only,dann,cmss,dmg")
  parser.add_argument("--seeds", default="0")
  parser.add_argument("--steps", type=int, default=600)
  parser.add_argument("--evals", type=int, default=6, help="evaluations per run")
  parser.add_argument("--eval_examples", type=int, default=3000)
  parser.add_argument("--max_examples", type=int, default=10000, help="per domain")
  parser.add_argument("--image_size", type=int, default=16)
  parser.add_argument("--dann_weight", type=float, default=0.1,
                      help="DANN's and CMSS's reversal weight (Ganin's schedule)")
  parser.add_argument("--out", default="runs/domain_adaptation")
  parser.add_argument("--table", action="store_true", help="only print the table and plot")
  parser.add_argument("--plot", default="experiments/domain_adaptation/cmss_weights.png")
  args = parser.parse_args()
  path = os.path.join(args.out, f"multi_source_{args.domain_set}_{args.held_out}.jsonl")
  if args.table:
    table(path, args.plot)
    return
  os.makedirs(args.out, exist_ok=True)
  for method in args.methods.split(","):
    for seed in [int(s) for s in args.seeds.split(",")]:
      config = multi_source_config(method, args.domain_set, args.held_out,
                                   num_steps=args.steps, image_size=args.image_size,
                                   max_examples=args.max_examples)
      config.seed = seed
      config.da.dann_weight = args.dann_weight
      result = run(config, args.evals, args.eval_examples)
      result.update(method=method, seed=seed, steps=args.steps, domain_set=args.domain_set,
                    held_out=args.held_out, image_size=args.image_size,
                    dann_weight=args.dann_weight)
      with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(result) + "\n")
      print(method, seed, {k: v for k, v in result.items()
                           if k not in ("history", "train_log")}, flush=True)


if __name__ == "__main__":
  main()
