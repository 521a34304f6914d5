"""InvGAN vs Defense-GAN: reconstruction error vs inversion iterations, and the defence.

    python experiments/robustness/invgan_curves.py --workdir runs/invgan_digits

Restores the InvGAN run in --workdir (and its frozen G), inverts --num test images
(latent optimisation from E(x) and from random latents; Defense-GAN's best of 10
restarts), then classifies x, FGSM / PGD examples of x, and G(z*) of each inversion with
a digits classifier (jaxgen.metrics.classifier, trained here) the attacks target.
Writes <workdir>/invgan_curves.png and invgan_results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)

from jaxgen import attacks, config_base  # noqa: E402
from jaxgen.checkpoint import Checkpointer  # noqa: E402
from jaxgen.data import get_dataset  # noqa: E402
from jaxgen.metrics import classifier as feature_classifier  # noqa: E402
from jaxgen.trainers.invgan import defense_gan, invert, invgan  # noqa: E402


def load(workdir: str):
  with open(os.path.join(workdir, "config.json"), encoding="utf-8") as f:
    config = config_base.with_defaults(ml_collections.ConfigDict(json.load(f)))
  spec = get_dataset(config.dataset).spec
  model = invgan(config, spec)
  checkpointer = Checkpointer(workdir, async_save=False)
  try:
    state, step = checkpointer.restore(model.trainer.init(jax.random.PRNGKey(config.seed)))
  finally:
    checkpointer.close()
  return config, model, state, step


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--workdir", default="runs/invgan_digits")
  parser.add_argument("--num", type=int, default=200)
  parser.add_argument("--eps", type=float, default=0.3, help="attack radius on [-1, 1]")
  args = parser.parse_args()
  config, model, state, step = load(args.workdir)
  c, g = config.invgan, model.gan.generate
  test = get_dataset(feature_classifier.with_split(config.dataset, "test"))
  batch = test.sample(min(args.num, test.num_examples), seed=0)
  x, y = jnp.asarray(batch["x"]), jnp.asarray(batch["y"])
  steps, restarts = c.invert_steps, c.defense_restarts
  latent = model.gan.latent_dim

  def inversions(x):
    """Per-step mean errors and z* of each method on images x."""
    z_e = model.encode(state, x)
    z_r = jax.random.normal(jax.random.PRNGKey(1), z_e.shape)
    out = {}
    for name, z0, lr in (("E init, lr %g" % c.invert_lr, z_e, c.invert_lr),
                         ("E init, lr %g" % c.defense_lr, z_e, c.defense_lr),
                         ("random init, lr %g" % c.defense_lr, z_r, c.defense_lr)):
      out[name] = invert(g, x, z0, steps=steps, lr=lr, momentum=c.invert_momentum)
    key = jax.random.PRNGKey(2)
    out[f"Defense-GAN {restarts} restarts x {steps // restarts} steps (equal compute)"] = (
        defense_gan(g, x, key, latent, restarts=restarts, steps=steps // restarts,
                    lr=c.defense_lr, momentum=c.invert_momentum))
    out[f"Defense-GAN {restarts} restarts x {steps} steps"] = defense_gan(
        g, x, key, latent, restarts=restarts, steps=steps, lr=c.defense_lr,
        momentum=c.invert_momentum)
    return out

  clean = inversions(x)
  curves = {k: np.asarray(v[1]).mean(-1) for k, v in clean.items()}

  # The defended classifier: jaxgen's digits feature classifier at the GAN's resolution.
  clf = feature_classifier.train_classifier(config.dataset, steps=500)
  logits_fn = lambda v: clf.module.apply({"params": clf.params}, v)["logits"]
  loss_fn = lambda v: optax.softmax_cross_entropy_with_integer_labels(logits_fn(v), y)
  acc = lambda v: float(jnp.mean(jnp.argmax(logits_fn(v), -1) == y))
  inputs = {"clean": x,
            f"FGSM eps {args.eps}": attacks.fgsm(loss_fn, x, args.eps, bounds=(-1.0, 1.0)),
            f"PGD-20 eps {args.eps}": attacks.pgd(loss_fn, x, args.eps, jax.random.PRNGKey(3),
                                                  steps=20, bounds=(-1.0, 1.0))}
  defence = {}
  for kind, xi in inputs.items():
    results = clean if kind == "clean" else inversions(xi)
    row = {"no defence": acc(xi)}
    row.update({name: acc(g(z)) for name, (z, _) in results.items()})
    defence[kind] = row
    print(kind, json.dumps(row), flush=True)

  checkpoints = [0, 10, 20, 50, 100, steps]
  record = {"step": int(step), "num_images": int(x.shape[0]), "invert_steps": steps,
            "errors_at": {k: {str(i): float(v[min(i, len(v) - 1)]) for i in checkpoints}
                          for k, v in curves.items()},
            "classifier_test_accuracy": clf.meta["accuracy"], "defence_accuracy": defence}
  with open(os.path.join(args.workdir, "invgan_results.json"), "w", encoding="utf-8") as f:
    json.dump(record, f, indent=2)
  print(json.dumps(record["errors_at"], indent=1))

  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(6, 3.8))
  for name, v in curves.items():
    ax.plot(np.arange(len(v)), v, label=name)
  ax.set_yscale("log")
  ax.set_xlabel("inversion iterations (per restart)")
  ax.set_ylabel("mean |G(z) - x|^2 per pixel")
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(os.path.join(args.workdir, "invgan_curves.png"), dpi=120)


if __name__ == "__main__":
  main()
