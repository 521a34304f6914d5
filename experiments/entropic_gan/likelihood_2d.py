"""Entropic GAN sample likelihoods vs the true log-density on a 2-D Gaussian mixture.

    python experiments/entropic_gan/likelihood_2d.py --workdir runs/entropic_2d --num_steps 2000

Trains configs/entropic_gaussians2d.py, then computes the surrogate (the trainer's
`entropic_log_likelihood`, per example) of 500 data points and 500 uniform points in
[-4, 4]^2 and its Spearman rank correlation with the mixture's closed-form log-density,
for the untrained and the trained model. Writes <workdir>/likelihood_2d.json and the
scatter plot experiments/entropic_gan/likelihood_2d.png (the paper's Fig. 3 style).
"""

from __future__ import annotations

import argparse
import json
import os

import jax
import numpy as np
from scipy import stats

from jaxgen import data, train
from jaxgen.trainers import build_trainer

HERE = os.path.dirname(os.path.abspath(__file__))


def load_config(name: str):
  import importlib.util  # pylint: disable=import-outside-toplevel
  path = os.path.join(HERE, "..", "..", "configs", name + ".py")
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--num_steps", type=int, default=2000)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--plot", default=os.path.join(HERE, "likelihood_2d.png"),
                      help="scatter plot path ('' for none)")
  args = parser.parse_args()
  config = load_config("entropic_gaussians2d")
  config.seed = args.seed
  config.train.num_steps = args.num_steps
  config.train.checkpoint_every = args.num_steps
  config.train.progress_bar = False
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  rng = np.random.default_rng(args.seed)
  points = np.concatenate([dataset.sample(500, seed=11)["x"],
                           rng.uniform(-4, 4, (500, 2)).astype(np.float32)])
  log_density = np.log(sum(w * stats.multivariate_normal(m, s ** 2).pdf(points)
                           for m, s, w in zip(dataset.means, dataset.stds, dataset.weights)))
  surrogate = jax.jit(lambda state, x: trainer.eval_metrics(
      state, {"x": x}, jax.random.PRNGKey(3))["entropic_log_likelihood"])
  untrained = np.asarray(surrogate(trainer.init(jax.random.PRNGKey(config.seed)), points))
  state = train.train_and_evaluate(config, args.workdir)
  trained = np.asarray(surrogate(state, points))
  result = {"num_steps": args.num_steps, "seed": args.seed,
            "spearman_untrained": float(stats.spearmanr(untrained, log_density).statistic),
            "spearman_trained": float(stats.spearmanr(trained, log_density).statistic),
            "spearman_trained_data_points": float(
                stats.spearmanr(trained[:500], log_density[:500]).statistic)}
  with open(os.path.join(args.workdir, "likelihood_2d.json"), "w", encoding="utf-8") as f:
    json.dump(result, f, indent=1)
  print(json.dumps(result))
  if args.plot:
    plot(args.plot, points, log_density, trained, result)


def plot(path: str, points, log_density, trained, result) -> None:
  """The paper's Fig. 3 style: surrogate vs true log-density, and over the plane."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  fig, axes = plt.subplots(1, 2, figsize=(9, 4))
  axes[0].scatter(log_density, trained, s=3)
  axes[0].set_xlabel("true log-density")
  axes[0].set_ylabel("entropic surrogate")
  axes[0].set_title(f"Spearman {result['spearman_trained']:.3f} ({result['num_steps']} steps)")
  sc = axes[1].scatter(points[:, 0], points[:, 1], c=trained, s=3, cmap="viridis")
  fig.colorbar(sc, ax=axes[1])
  axes[1].set_title("surrogate over the plane")
  fig.tight_layout()
  fig.savefig(path, dpi=100)


if __name__ == "__main__":
  main()
