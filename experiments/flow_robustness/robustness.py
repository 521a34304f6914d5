"""Flows under attack on their likelihood: standard vs adversarially trained (Pope et al. 2020).

    python experiments/flow_robustness/robustness.py --workdir runs/flow_robustness

Trains `--config` (default configs/glow_digits.py) with maximum likelihood and with the
hybrid PGD objective (flow.adversarial='hybrid') from the same seed, then measures
held-out bits/dim clean and under L-inf PGD on the NLL (20 steps, random start, inputs
kept in [-1, 1]) over an eps grid, plus one universal L-inf perturbation per eps; and the
same two trainings of configs/realnvp_2d_ring8.py, drawn as log-densities with clean and
attacked points. Writes results.json, table.md and two PNGs into --workdir.
"""

from __future__ import annotations

import json
import os
import sys

from absl import app, flags
import jax
import jax.numpy as jnp
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from jaxgen import data, train  # noqa: E402
from jaxgen.attacks import likelihood  # noqa: E402
from jaxgen.metrics import classifier  # noqa: E402
from jaxgen.trainers.flow import flow  # noqa: E402
from tests.conftest import load_config  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", "runs/flow_robustness", "output directory")
flags.DEFINE_string("config", "glow_digits", "image flow config in configs/")
flags.DEFINE_integer("steps", 1000, "training steps of each image flow")
flags.DEFINE_integer("ring8_steps", 2000, "training steps of each 2-D flow")
flags.DEFINE_float("adv_eps", 0.05, "L-inf radius of adversarial training (images, [-1, 1])")
flags.DEFINE_list("eps", ["0", "0.01", "0.02", "0.05", "0.1"], "attack radii (L-inf)")
flags.DEFINE_integer("attack_steps", 20, "PGD steps of the evaluation attack")

MODES = {"standard": "", "adversarial": "hybrid"}


def _train(config, workdir: str):
  config.train.progress_bar = False
  state = train.train_and_evaluate(config, workdir)
  dataset = data.get_dataset(config.dataset)
  return flow(config, dataset.spec), jax.device_get(state)


def image_table(workdir: str) -> dict:
  """Clean and attacked held-out bits/dim for each training mode."""
  results = {}
  for mode, adversarial in MODES.items():
    config = load_config(FLAGS.config)
    config.flow.update(adversarial=adversarial, adv_eps=FLAGS.adv_eps, adv_norm="linf")
    config.train.num_steps = FLAGS.steps
    config.train.checkpoint_every = FLAGS.steps
    config.eval.every = 0
    f, state = _train(config, os.path.join(workdir, mode))
    held = classifier.held_out_dataset(config.dataset)
    batch = held.sample(held.num_examples, seed=0)
    x = f.preprocessing.quantize(jnp.asarray(batch["x"]))
    u = jax.random.uniform(jax.random.PRNGKey(1), x.shape)
    nll = jax.jit(lambda v: f.nll(state.net.params, v, u))
    rows = []
    for eps in map(float, FLAGS.eps):
      key = jax.random.PRNGKey(2)
      x_pgd = likelihood.nll_pgd(nll, x, eps, key, norm="linf", steps=FLAGS.attack_steps,
                                 bounds=f.bounds)
      delta = likelihood.universal_perturbation(nll, x, eps, key, norm="linf",
                                                steps=FLAGS.attack_steps, bounds=f.bounds)
      x_uni = jnp.clip(x + delta, -1, 1)
      rows.append(dict(eps=eps, pgd_bpd=float(jnp.mean(f.bpd(nll(x_pgd)))),
                       universal_bpd=float(jnp.mean(f.bpd(nll(x_uni)))),
                       clean_bpd=float(jnp.mean(f.bpd(nll(x))))))
      print(mode, rows[-1], flush=True)
    results[mode] = rows
  return results


def ring8_picture(workdir: str) -> dict:
  """Log-densities of the two 2-D flows with clean and L2-PGD-attacked (eps 0.1) points."""
  fig, axes = plt.subplots(1, 2, figsize=(10, 5))
  grid = np.linspace(-2.6, 2.6, 200)
  points = jnp.asarray(np.stack(np.meshgrid(grid, grid), -1).reshape(-1, 2), jnp.float32)
  out = {}
  for ax, (mode, adversarial) in zip(axes, MODES.items()):
    config = load_config("realnvp_2d_ring8")
    config.flow.update(adversarial=adversarial, adv_eps=0.1, adv_norm="l2")
    config.train.num_steps = FLAGS.ring8_steps
    config.train.checkpoint_every = FLAGS.ring8_steps
    config.train.sample_every = FLAGS.ring8_steps
    config.eval.every = 0
    f, state = _train(config, os.path.join(workdir, "ring8_" + mode))
    nll = jax.jit(lambda v: f.nll(state.net.params, v, jnp.zeros_like(v)))
    x = jnp.asarray(data.get_dataset(config.dataset).sample(300, seed=1)["x"])
    x_adv = likelihood.nll_pgd(nll, x, 0.1, jax.random.PRNGKey(3), norm="l2", steps=20)
    out[mode] = dict(clean_nll=float(jnp.mean(nll(x))), attacked_nll=float(jnp.mean(nll(x_adv))))
    logp = -np.asarray(nll(points)).reshape(200, 200)
    ax.imshow(np.clip(logp, -10, None), extent=(-2.6, 2.6, -2.6, 2.6), origin="lower",
              cmap="viridis")
    ax.scatter(x[:, 0], x[:, 1], s=3, c="white", label="clean")
    ax.scatter(x_adv[:, 0], x_adv[:, 1], s=3, c="red", label="PGD L2 eps 0.1")
    ax.set_title(f"{mode}: NLL {out[mode]['clean_nll']:.2f} -> "
                 f"{out[mode]['attacked_nll']:.2f} nats")
    ax.legend(loc="lower left", fontsize=7)
  fig.tight_layout()
  fig.savefig(os.path.join(workdir, "ring8_density.png"), dpi=80)
  return out


def write_table(workdir: str, results: dict) -> None:
  eps = [r["eps"] for r in results["standard"]]
  lines = ["| training | attack | " + " | ".join(f"eps {e:g}" for e in eps) + " |",
           "|---|---|" + "---|" * len(eps)]
  for mode, rows in results.items():
    for attack in ("pgd", "universal"):
      lines.append(f"| {mode} | {attack} | "
                   + " | ".join(f"{r[attack + '_bpd']:.3f}" for r in rows) + " |")
  with open(os.path.join(workdir, "table.md"), "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
  fig, ax = plt.subplots(figsize=(5, 4))
  for mode, rows in results.items():
    ax.plot(eps, [r["pgd_bpd"] for r in rows], "o-", label=f"{mode}, PGD")
    ax.plot(eps, [r["universal_bpd"] for r in rows], "x--", label=f"{mode}, universal")
  ax.set_xlabel("L-inf eps ([-1, 1] scale)")
  ax.set_ylabel("held-out bits/dim")
  ax.legend()
  fig.tight_layout()
  fig.savefig(os.path.join(workdir, "bpd_vs_eps.png"), dpi=80)


def main(_):
  os.makedirs(FLAGS.workdir, exist_ok=True)
  results = {"image": image_table(FLAGS.workdir)}
  write_table(FLAGS.workdir, results["image"])
  results["ring8"] = ring8_picture(FLAGS.workdir)
  with open(os.path.join(FLAGS.workdir, "results.json"), "w", encoding="utf-8") as f:
    json.dump(results, f, indent=2)
  print(json.dumps(results["ring8"]))


if __name__ == "__main__":
  app.run(main)
