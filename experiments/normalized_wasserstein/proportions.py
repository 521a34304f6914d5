"""NW-GAN vs a plain WGAN on the imbalanced 3x3 grid: recovered proportions and modes.

    python experiments/normalized_wasserstein/proportions.py --workdir runs/nw_grid \
        --variant nwgan --num_steps 2000

Trains `configs/nwgan_mixture_imbalanced.py` (variant nwgan) or the same data with an
MLP WGAN of the same budget (variant wgan: configs/gan_mixture_imbalanced.py with the
WGAN loss and clipping), then draws 5000 samples, assigns each to the nearest true mean
(the paper's protocol) and prints the recovered proportions against the true ones, the
largest per-mode error, modes covered and high-quality samples (3 std, the VEEGAN/PacGAN
protocol). Results go to <workdir>/<variant>/proportions.json and samples.png.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os

import jax
import numpy as np

from jaxgen import config_base, data, images, metrics, train
from jaxgen.sweeps.report import mean_std
from jaxgen.trainers import build_trainer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_config(name: str):
  path = os.path.join(REPO, "configs", name + ".py")
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def variant_config(args):
  if args.variant == "nwgan":
    config = load_config("nwgan_mixture_imbalanced")
    config.optim.pi = config_base.optimizer(lr=args.pi_lr, name=args.optimizer)
    config.model.reference_init = args.reference_init
  else:
    config = load_config("gan_mixture_imbalanced")
    config.loss.name = "wgan"
    config.loss.clip_d_weights = 0.01
  config.optim.g = config_base.optimizer(lr=args.g_lr, name=args.optimizer)
  config.optim.d = config_base.optimizer(lr=args.d_lr, name=args.optimizer)
  config.seed = args.seed
  config.train.batch_size = args.batch_size
  config.train.n_critic = args.n_critic
  config.train.num_steps = args.num_steps
  config.train.steps_per_call = 50
  config.train.log_every = 250
  config.train.sample_every = args.num_steps
  config.train.checkpoint_every = args.num_steps
  config.train.progress_bar = False
  return config


def recovered_proportions(points: np.ndarray, means: np.ndarray) -> np.ndarray:
  """Share of samples nearest to each true mean (the NW paper's pi estimate)."""
  nearest = np.argmin(((points[:, None] - means[None]) ** 2).sum(-1), axis=1)
  return np.bincount(nearest, minlength=len(means)) / len(points)


def results_by_variant(pattern: str) -> dict[str, list[dict]]:
  """The JSON results matching the glob `pattern`, grouped by their 'variant'."""
  runs = {}
  for path in sorted(glob.glob(pattern)):
    with open(path, encoding="utf-8") as f:
      result = json.load(f)
    runs.setdefault(result["variant"], []).append(result)
  return runs


def table(pattern: str) -> str:
  """Mean ± std (ddof=1) over the proportions.json files matching `pattern`, per variant."""
  runs = results_by_variant(pattern)
  lines = ["| variant | max abs. error | modes covered (of 9) | high-quality samples | "
           "per seed (error; modes) | n |", "|---|---|---|---|---|---|"]
  for variant, rs in sorted(runs.items()):
    seeds = ", ".join(f"{r['max_abs_error']:.3f}; {r['modes_covered']}"
                      for r in sorted(rs, key=lambda r: r["args"]["seed"]))
    lines.append(f"| {variant} | {mean_std([r['max_abs_error'] for r in rs], '.3f', with_n=False)}"
                 f" | {mean_std([r['modes_covered'] for r in rs], '.2g', with_n=False)}"
                 f" | {mean_std([r['high_quality_fraction'] for r in rs], '.3f', with_n=False)}"
                 f" | {seeds} | {len(rs)} |")
  return "\n".join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", default="", help="required unless --table")
  parser.add_argument("--variant", choices=("nwgan", "wgan"), default="nwgan")
  parser.add_argument("--num_steps", type=int, default=2000)
  parser.add_argument("--batch_size", type=int, default=512)
  parser.add_argument("--n_critic", type=int, default=5)
  parser.add_argument("--optimizer", default="rmsprop")
  parser.add_argument("--g_lr", type=float, default=2e-3)
  parser.add_argument("--d_lr", type=float, default=5e-4)
  parser.add_argument("--pi_lr", type=float, default=1e-3)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--reference_init", action="store_true",
                      help="nwgan: the reference code's generator init (model.reference_init)")
  parser.add_argument("--table", default="",
                      help="print the table over proportions.json files matching this glob")
  args = parser.parse_args()
  if args.table:
    print(table(args.table))
    return
  if not args.workdir:
    parser.error("--workdir is required (unless --table)")
  config = variant_config(args)
  workdir = os.path.join(args.workdir, args.variant)
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  state = train.train_and_evaluate(config, workdir)
  points = np.asarray(trainer.sample(state, trainer.noise(jax.random.PRNGKey(123), 5000)))
  est = recovered_proportions(points, dataset.means)
  cov = metrics.mode_coverage(points, dataset.means, dataset.stds, weights=dataset.weights)
  result = {"variant": args.variant, "args": vars(args),
            "true": dataset.weights.round(4).tolist(), "recovered": est.round(4).tolist(),
            "max_abs_error": float(np.abs(est - dataset.weights).max()),
            "modes_covered": int(cov["modes_covered"]),
            "high_quality_fraction": float(cov["high_quality_fraction"])}
  if args.variant == "nwgan":
    result["learned_pi"] = np.asarray(jax.nn.softmax(state.pi.params["logits"])).round(4).tolist()
  images.save_scatter(os.path.join(workdir, "samples.png"), points,
                      dataset.sample(2000, seed=0)["x"], title=args.variant)
  with open(os.path.join(workdir, "proportions.json"), "w", encoding="utf-8") as f:
    json.dump(result, f, indent=1)
  print(json.dumps(result))


if __name__ == "__main__":
  main()
