"""Mode coverage of a trained 2-D mixture GAN (the VEEGAN/PacGAN protocol).

    python -m jaxgen.main --config configs/gan_ring8.py --workdir runs/gan_ring8
    python experiments/mixtures/mode_coverage.py --workdir runs/gan_ring8

Loads the run's config.json and latest checkpoint, draws 2500 samples and prints modes
covered (a mode needs one sample within 3 std) and the fraction of high-quality samples.
"""

from __future__ import annotations

import argparse
import json
import os

import jax
import ml_collections
import numpy as np

from jaxgen import data, metrics
from jaxgen.checkpoint import Checkpointer
from jaxgen.trainers import build_trainer


def evaluate(workdir: str, num_samples: int = 2500, seed: int = 123) -> dict:
  with open(os.path.join(workdir, "config.json"), encoding="utf-8") as f:
    config = ml_collections.ConfigDict(json.load(f))
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  state, step = Checkpointer(workdir).restore(trainer.init(jax.random.PRNGKey(config.seed)))
  if step is None:
    raise FileNotFoundError(f"no checkpoint in {workdir}/checkpoints; train first")
  points = np.asarray(trainer.sample(state, trainer.noise(jax.random.PRNGKey(seed),
                                                          num_samples)))
  result = metrics.mode_coverage(points, dataset.means, dataset.stds,
                                 weights=dataset.weights)
  return {"step": step, "modes": len(dataset.means),
          "modes_covered": int(result["modes_covered"]),
          "high_quality_fraction": float(result["high_quality_fraction"]),
          "reverse_kl": float(result["reverse_kl"])}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--num_samples", type=int, default=2500)
  args = parser.parse_args()
  print(json.dumps(evaluate(args.workdir, args.num_samples)))


if __name__ == "__main__":
  main()
