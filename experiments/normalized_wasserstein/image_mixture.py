"""NW-GAN vs a WGAN-GP on an image mixture: recovered class proportions and component purity.

    python experiments/normalized_wasserstein/image_mixture.py --workdir runs/nw_images \
        --variant nwgan --seed 0

Trains `configs/nwgan_fashion_mnist_classes.py` (Fashion-MNIST trousers, sneakers, bags at
0.6 / 0.3 / 0.1; K = 3 DCGAN components, WGAN-GP critic) or, as variant `wgan`, the same
config with one component (the plain WGAN-GP of the same budget; K = 1 is the WGAN bit for
bit, tests/test_nwgan.py). A jaxgen classifier trained on the three classes at equal
weights (its held-out accuracy is reported) labels 5000 mixture samples: their class
shares against the true proportions, the share of confident samples (max softmax >= 0.9,
a quality proxy), and for the NW-GAN each component's purity (the share of its samples in
its majority class) and learned pi. Writes <workdir>/<variant>_seed<S>/image_mixture.json
and a grid per component.
"""

from __future__ import annotations

import argparse
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import data, images, train
from jaxgen.metrics import classifier as classifier_lib
from jaxgen.sweeps.report import mean_std
from jaxgen.trainers import build_trainer
from jaxgen.trainers.nwgan import proportions

from proportions import load_config, results_by_variant  # noqa: E402  pylint: disable=g-import-not-at-top

CONFIDENT = 0.9


def variant_config(variant: str, seed: int, num_steps: int, data_dir: str):
  config = load_config("nwgan_fashion_mnist_classes")
  if variant == "wgan":
    config.nwgan.num_components = 1
  config.seed = seed
  config.dataset.data_dir = data_dir
  config.train.num_steps = num_steps
  config.train.steps_per_call = 50
  config.train.log_every = max(num_steps // 10, 1)
  config.train.sample_every = num_steps
  config.train.checkpoint_every = max(num_steps // 4, 1)
  config.train.progress_bar = False
  return config


def class_classifier(config, directory: str) -> classifier_lib.TrainedClassifier:
  """A classifier of the mixture's classes, trained once at equal weights and cached."""
  if classifier_lib.is_saved(directory):
    return classifier_lib.load_classifier(directory)
  balanced = config.dataset.copy_and_resolve_references()
  balanced.weights = [1.0] * len(config.dataset.weights)
  trained = classifier_lib.train_classifier(balanced, steps=1000)
  classifier_lib.save_classifier(directory, trained)
  return trained


def softmax(classifier, x: np.ndarray, batch: int = 500) -> np.ndarray:
  out = [jax.nn.softmax(classifier.apply(jnp.asarray(x[i:i + batch]))["logits"])
         for i in range(0, len(x), batch)]
  return np.concatenate([np.asarray(o) for o in out])


def class_shares(probs: np.ndarray, k: int) -> np.ndarray:
  return np.bincount(probs.argmax(-1), minlength=k) / len(probs)


def table(workdir: str) -> str:
  """Markdown table over the recorded runs of both variants: mean ± std (ddof=1), n."""
  runs = results_by_variant(os.path.join(workdir, "*_seed*", "image_mixture.json"))
  lines = ["| variant | class shares of samples | max abs. error | confident samples | "
           "worst component's purity | components > 0.9 pure, per seed | learned pi, per seed | n |",
           "|---|---|---|---|---|---|---|---|"]
  for variant, rs in sorted(runs.items()):
    shares = " / ".join(mean_std([r["sample_class_shares"][k] for r in rs], ".3f", with_n=False)
                        for k in range(len(rs[0]["true"])))
    purity = pure = pi = "-"
    if "components" in rs[0]:
      purity = mean_std([min(c["purity"] for c in r["components"]) for r in rs], ".3f",
                        with_n=False)
      pure = " / ".join(str(sum(c["purity"] > 0.9 for c in r["components"])) for r in rs)
      pi = "; ".join(" / ".join(f"{p:.2f}" for p in r["learned_pi"]) for r in rs)
    lines.append(f"| {variant} | {shares} | "
                 f"{mean_std([r['max_abs_error'] for r in rs], '.3f', with_n=False)} | "
                 f"{mean_std([r['confident_fraction'] for r in rs], '.3f', with_n=False)} | "
                 f"{purity} | {pure} | {pi} | {len(rs)} |")
  return "\n".join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--variant", choices=("nwgan", "wgan"), default="nwgan")
  parser.add_argument("--num_steps", type=int, default=2000)
  parser.add_argument("--num_samples", type=int, default=5000)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--data_dir", default="", help="Fashion-MNIST IDX directory")
  parser.add_argument("--table", action="store_true", help="print the table of the runs and exit")
  args = parser.parse_args()
  if args.table:
    print(table(args.workdir))
    return
  config = variant_config(args.variant, args.seed, args.num_steps, args.data_dir)
  workdir = os.path.join(args.workdir, f"{args.variant}_seed{args.seed}")
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  classifier = class_classifier(config, os.path.join(args.workdir, "classifier"))
  state = train.train_and_evaluate(config, workdir)

  k = len(config.dataset.weights)
  true = np.asarray(dataset.weights)
  x = np.asarray(trainer.sample(state, trainer.noise(jax.random.PRNGKey(123), args.num_samples)))
  probs = softmax(classifier, x)
  shares = class_shares(probs, k)
  real = softmax(classifier, dataset.sample(args.num_samples, seed=1)["x"])
  result = {"variant": args.variant, "args": vars(args), "true": true.round(4).tolist(),
            "classifier_accuracy": classifier.meta["accuracy"],
            "sample_class_shares": shares.round(4).tolist(),
            "max_abs_error": float(np.abs(shares - true).max()),
            "real_class_shares": class_shares(real, k).round(4).tolist(),
            "confident_fraction": float(np.mean(probs.max(-1) >= CONFIDENT)),
            "real_confident_fraction": float(np.mean(real.max(-1) >= CONFIDENT))}
  if args.variant == "nwgan":
    z = jax.random.normal(jax.random.PRNGKey(7), (args.num_samples, trainer.noise(
        jax.random.PRNGKey(0), 1).shape[1] - 1))
    num_components = config.nwgan.num_components
    # With uniform pi, the noise's uniform u = (c + 0.5) / K picks component c.
    uniform_pi = state.replace(pi=state.pi.replace(params={"logits": jnp.zeros(num_components)}))
    per_component = []
    for c in range(num_components):
      u = jnp.full((args.num_samples, 1), (c + 0.5) / num_components)
      xc = np.asarray(trainer.sample(uniform_pi, jnp.concatenate([z, u], axis=1)))
      s = class_shares(softmax(classifier, xc), k)
      per_component.append({"majority_class": int(s.argmax()), "purity": float(s.max()),
                            "class_shares": s.round(4).tolist()})
      images.save_image_grid(os.path.join(workdir, f"component{c}.png"), xc[:64], scale=2)
    result["learned_pi"] = np.asarray(proportions(state)).round(4).tolist()
    result["components"] = per_component
  images.save_image_grid(os.path.join(workdir, "samples.png"), x[:64], scale=2)
  with open(os.path.join(workdir, "image_mixture.json"), "w", encoding="utf-8") as f:
    json.dump(result, f, indent=1)
  print(json.dumps(result))


if __name__ == "__main__":
  main()
