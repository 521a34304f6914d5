"""LSD-seg vs the source-only segmenter on the synthetic scenes (flat -> photo-textured):
target mIoU at the evaluation with the best source-validation mIoU, over seeds.

    nice -n 5 python experiments/domain_adaptation/lsd_seg.py --seeds 0,1,2 --steps 1000

Each run is `jaxgen.train.train_and_evaluate` of configs/seg_source_only_scenes.py or
configs/lsdseg_scenes.py (evaluations of all 800 source-validation and target-test
scenes every steps / 10); results are appended to <out>/lsd_seg.jsonl, the table is
printed, and <out>/lsd_seg_samples.png shows target scenes, labels and both methods'
selected (best/) segmentations of the first seed.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax
import numpy as np
from PIL import Image

from jaxgen import config_base, data, train
from jaxgen.checkpoint import restore_run
from jaxgen.trainers import build_trainer
from jaxgen.trainers.seg_source_only import segment

METHODS = ("seg_source_only", "lsd_seg")
# Label colours of the figure: background, disc, rectangle, triangle.
LABEL_COLOURS = np.array([[0, 0, 0], [230, 25, 75], [60, 180, 75], [0, 130, 200]], np.uint8)


def read_evals(workdir: str) -> list[dict]:
  """The eval records of metrics.jsonl: {step, src_val_miou, target_miou, ...}."""
  out = []
  with open(os.path.join(workdir, "metrics.jsonl"), encoding="utf-8") as f:
    for line in f:
      r = json.loads(line)
      if "eval/src_val_miou" in r:
        out.append({"step": r["step"], **{k[5:]: v for k, v in r.items()
                                          if k.startswith("eval/") and k != "eval/protocol"}})
  return out


def run(method: str, seed: int, steps: int, out: str) -> dict:
  config = config_base.segmentation_config(method, num_steps=steps)
  config.seed = seed
  workdir = os.path.join(out, f"{method}_s{seed}")
  cpu, wall = time.process_time(), time.time()
  train.train_and_evaluate(config, workdir)
  evals = read_evals(workdir)
  best = max(evals, key=lambda e: e["src_val_miou"])  # first maximum: the kept best/
  return {"method": method, "seed": seed, "steps": steps, "workdir": workdir,
          "selected_step": best["step"], "target_miou": best["target_miou"],
          "target_pixel_acc": best["target_pixel_acc"], "src_val_miou": best["src_val_miou"],
          "last_target_miou": evals[-1]["target_miou"],
          "cpu_s": time.process_time() - cpu, "wall_s": time.time() - wall}


def mean_std(values: list[float]) -> str:
  v = np.asarray(values, np.float64)
  return f"{v.mean():.3f}" + (f" ± {v.std(ddof=1):.3f}" if len(v) > 1 else "")


def table(results: list[dict]) -> str:
  lines = ["| method | target mIoU (selected) | target pixel acc. | source-val mIoU | "
           "target mIoU (last) | n | seeds |", "|---|---|---|---|---|---|---|"]
  for method in METHODS:
    rs = [r for r in results if r["method"] == method]
    if rs:
      lines.append(f"| {method} | {mean_std([r['target_miou'] for r in rs])} | "
                   f"{mean_std([r['target_pixel_acc'] for r in rs])} | "
                   f"{mean_std([r['src_val_miou'] for r in rs])} | "
                   f"{mean_std([r['last_target_miou'] for r in rs])} | {len(rs)} | "
                   f"{','.join(str(r['seed']) for r in rs)} |")
  return "\n".join(lines)


def sample_figure(results: list[dict], path: str, n: int = 8) -> None:
  """Rows: target image, label, source-only, LSD-seg (best/ states), n target test scenes."""
  seed = results[0]["seed"]
  config = config_base.segmentation_config(METHODS[0])
  test = data.get_dataset(config_base.complete(config.dataset, {"split": "test"}))
  batch = test.sample(n, seed=0)
  rows = [np.clip((batch["x_t"] + 1) * 127.5, 0, 255).astype(np.uint8),
          LABEL_COLOURS[batch["y_t"]]]
  for method in METHODS:
    r = next(r for r in results if r["method"] == method and r["seed"] == seed)
    cfg = config_base.segmentation_config(method)
    trainer = build_trainer(cfg, test.spec)
    state, _ = restore_run(r["workdir"], trainer.init(jax.random.PRNGKey(0)), best=True)
    logits = segment(state.nets, batch["x_t"])[0]
    rows.append(LABEL_COLOURS[np.asarray(logits.argmax(-1))])
  grid = np.concatenate([np.concatenate(list(row), axis=1) for row in rows], axis=0)
  Image.fromarray(grid).resize((grid.shape[1] * 4, grid.shape[0] * 4), Image.NEAREST).save(path)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--seeds", default="0")
  parser.add_argument("--steps", type=int, default=1000)
  parser.add_argument("--methods", default=",".join(METHODS))
  parser.add_argument("--out", default="runs/domain_adaptation/lsd_seg")
  args = parser.parse_args()
  os.makedirs(args.out, exist_ok=True)
  log = os.path.join(args.out, "lsd_seg.jsonl")
  results = []
  for seed in (int(s) for s in args.seeds.split(",")):
    for method in args.methods.split(","):
      r = run(method, seed, args.steps, args.out)
      print(json.dumps(r), flush=True)
      with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps(r) + "\n")
      results.append(r)
  print(table(results))
  if all(any(r["method"] == m for r in results) for m in METHODS):
    sample_figure(results, os.path.join(args.out, "lsd_seg_samples.png"))


if __name__ == "__main__":
  main()
