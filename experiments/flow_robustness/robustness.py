"""Flows under attack on their likelihood: standard vs adversarially trained (Pope et al. 2020).

    python experiments/flow_robustness/robustness.py --workdir runs/flow_robustness \
        --configs glow_digits,realnvp_digits --seeds 0,1,2 --modes standard,hybrid,pgd

Trains each of `--configs` at each seed with maximum likelihood (standard), the hybrid
objective (0.5 clean NLL + 0.5 NLL of L-inf PGD inputs) and the PGD NLL alone, from the
same seed and data order, then measures held-out bits/dim clean and under per-example PGD
on the NLL (20 steps, random start, inputs kept in [-1, 1]) and one universal perturbation
per radius, under L-inf and L2. Also trains configs/realnvp_2d_ring8.py standard and hybrid
and draws their log-densities with clean and attacked points. Re-running skips recorded
runs; `--table` only tabulates them (mean ± std over seeds, ddof=1). Writes
<config>/seed<s>/results.json, table.md, bpd_vs_eps.png (a row per config) and
ring8_density.png.
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
flags.DEFINE_list("configs", ["glow_digits"], "image flow configs in configs/")
flags.DEFINE_list("seeds", ["0"], "training seeds (config.seed) of the image flows")
flags.DEFINE_list("modes", ["standard", "hybrid"], "trainings: " + ", ".join(
    ["standard", "hybrid", "pgd"]))
flags.DEFINE_integer("steps", 1000, "training steps of each image flow")
flags.DEFINE_integer("ring8_steps", 2000, "training steps of each 2-D flow (0: no ring8)")
flags.DEFINE_float("adv_eps", 0.05, "L-inf radius of adversarial training (images, [-1, 1])")
flags.DEFINE_list("eps", ["0", "0.01", "0.02", "0.05", "0.1"], "L-inf attack radii")
flags.DEFINE_list("l2_eps", ["0", "0.25", "0.5", "1", "2"], "L2 attack radii (whole image)")
flags.DEFINE_integer("attack_steps", 20, "PGD steps of the evaluation attack")
flags.DEFINE_integer("num_test", 0, "held-out images attacked: a fixed seed-0 subset of this "
                     "size, the same for every run (0: all)")
flags.DEFINE_bool("table", False, "only tabulate the recorded runs (no training)")

# mode -> flow.adversarial: maximum likelihood, the paper's hybrid 0.5 clean + 0.5 PGD NLL,
# and the NLL of PGD inputs alone
MODES = {"standard": "", "hybrid": "hybrid", "pgd": "pgd"}
ATTACKS = [("linf", "pgd"), ("linf", "universal"), ("l2", "pgd"), ("l2", "universal")]


def _train(config, workdir: str):
  config.train.progress_bar = False
  state = train.train_and_evaluate(config, workdir)
  dataset = data.get_dataset(config.dataset)
  return flow(config, dataset.spec), jax.device_get(state)


def _radii(norm: str) -> list[float]:
  return [float(e) for e in (FLAGS.eps if norm == "linf" else FLAGS.l2_eps)]


def attacked_bpd(f, params, x: jax.Array) -> dict:
  """Held-out bits/dim of `x` clean and under per-example PGD and one universal delta per
  radius, for each norm; the same dequantisation noise for clean and attacked inputs."""
  u = jax.random.uniform(jax.random.PRNGKey(1), x.shape)
  nll = jax.jit(lambda v: f.nll(params, v, u))
  bpd = lambda v: float(jnp.mean(f.bpd(nll(v))))
  out = {"clean": bpd(x)}
  for norm, attack in ATTACKS:
    row = []
    for eps in _radii(norm):
      key = jax.random.PRNGKey(2)
      if attack == "pgd":
        x_adv = likelihood.nll_pgd(nll, x, eps, key, norm=norm, steps=FLAGS.attack_steps,
                                   bounds=f.bounds)
      else:
        delta = likelihood.universal_perturbation(nll, x, eps, key, norm=norm,
                                                  steps=FLAGS.attack_steps, bounds=f.bounds)
        x_adv = jnp.clip(x + delta, -1, 1)
      row.append(bpd(x_adv))
    out[f"{norm}_{attack}"] = row
  return out


def _results_path(workdir: str, config_name: str, seed) -> str:
  return os.path.join(workdir, config_name, f"seed{seed}", "results.json")


def recorded_runs(workdir: str, config_name: str) -> dict:
  """{seed: {mode: attacked_bpd record}} of the `--seeds` already recorded."""
  runs = {}
  for seed in FLAGS.seeds:
    path = _results_path(workdir, config_name, seed)
    if os.path.exists(path):
      with open(path, encoding="utf-8") as f:
        runs[str(seed)] = json.load(f)
  return runs


def image_run(workdir: str, config_name: str, seed: int) -> dict:
  """Trains each mode of `config_name` at `seed` (same data order) and attacks it."""
  path = _results_path(workdir, config_name, seed)
  results = recorded_runs(workdir, config_name).get(str(seed), {})
  for mode in FLAGS.modes:
    if mode in results:
      continue
    config = load_config(config_name)
    config.seed = seed
    config.flow.update(adversarial=MODES[mode], adv_eps=FLAGS.adv_eps, adv_norm="linf")
    config.train.num_steps = FLAGS.steps
    config.train.checkpoint_every = FLAGS.steps
    config.train.sample_every = FLAGS.steps
    config.eval.every = 0
    f, state = _train(config, os.path.join(os.path.dirname(path), mode))
    held = classifier.held_out_dataset(config.dataset)
    num_test = min(FLAGS.num_test or held.num_examples, held.num_examples)
    x = f.preprocessing.quantize(jnp.asarray(held.sample(num_test, seed=0)["x"]))
    results[mode] = attacked_bpd(f, state.net.params, x)
    print(config_name, seed, mode, results[mode], flush=True)
    with open(path, "w", encoding="utf-8") as out:
      json.dump(results, out, indent=2)
  return results


def _mean_std(values: list[float]) -> str:
  if len(values) < 2:
    return f"{values[0]:.3f}"
  return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"


def image_table(workdir: str) -> str:
  """Markdown tables (mean ± std over the recorded seeds, ddof=1) per config and norm."""
  lines = []
  for config_name in FLAGS.configs:
    runs = recorded_runs(workdir, config_name)
    if not runs:
      continue
    for norm in ("linf", "l2"):
      radii = _radii(norm)
      lines += ["", f"{config_name}, {norm} (seeds {', '.join(runs)}; n per row in the "
                "second column), held-out bits/dim:", "",
                "| training | n | attack | " + " | ".join(f"eps {e:g}" for e in radii) + " |",
                "|---|---|---|" + "---|" * len(radii)]
      for mode in MODES:
        done = [r[mode] for r in runs.values() if mode in r]
        for attack in ("pgd", "universal"):
          if done:
            cells = [_mean_std([d[f"{norm}_{attack}"][i] for d in done])
                     for i in range(len(radii))]
            lines.append(f"| {mode} | {len(done)} | {attack} | " + " | ".join(cells) + " |")
  return "\n".join(lines).strip() + "\n"


def plot(workdir: str) -> None:
  """Held-out bits/dim vs L-inf and L2 radius (mean over seeds), a row per recorded config."""
  recorded = {name: runs for name in FLAGS.configs if (runs := recorded_runs(workdir, name))}
  if not recorded:
    return
  fig, rows = plt.subplots(len(recorded), 2, figsize=(10, 4 * len(recorded)), squeeze=False)
  for (config_name, by_seed), axes in zip(recorded.items(), rows):
    runs = by_seed.values()
    for ax, norm in zip(axes, ("linf", "l2")):
      for mode in MODES:
        curves = [run[mode] for run in runs if mode in run]
        for attack, style in (("pgd", "o-"), ("universal", "x--")):
          if curves:
            mean = np.mean([c[f"{norm}_{attack}"] for c in curves], axis=0)
            ax.plot(_radii(norm), mean, style, label=f"{mode}, {attack} (n={len(curves)})")
      ax.set_xlabel(f"{norm} eps ([-1, 1] scale)")
      ax.set_ylabel("held-out bits/dim")
      ax.set_title(config_name)
      ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(os.path.join(workdir, "bpd_vs_eps.png"), dpi=80)


def ring8_picture(workdir: str) -> dict:
  """Log-densities of the two 2-D flows with clean and L2-PGD-attacked (eps 0.1) points."""
  fig, axes = plt.subplots(1, 2, figsize=(10, 5))
  grid = np.linspace(-2.6, 2.6, 200)
  points = jnp.asarray(np.stack(np.meshgrid(grid, grid), -1).reshape(-1, 2), jnp.float32)
  out = {}
  for ax, mode in zip(axes, ("standard", "hybrid")):
    adversarial = MODES[mode]
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


def main(_):
  os.makedirs(FLAGS.workdir, exist_ok=True)
  if not FLAGS.table:
    for config_name in FLAGS.configs:
      for seed in map(int, FLAGS.seeds):
        image_run(FLAGS.workdir, config_name, seed)
    if FLAGS.ring8_steps:
      ring8 = ring8_picture(FLAGS.workdir)
      with open(os.path.join(FLAGS.workdir, "ring8.json"), "w", encoding="utf-8") as f:
        json.dump(ring8, f, indent=2)
      print(json.dumps(ring8))
  table = image_table(FLAGS.workdir)
  with open(os.path.join(FLAGS.workdir, "table.md"), "w", encoding="utf-8") as f:
    f.write(table)
  plot(FLAGS.workdir)
  print(table)


if __name__ == "__main__":
  app.run(main)
