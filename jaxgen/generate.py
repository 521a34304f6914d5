"""Samples from a run's checkpoint alone: `python -m jaxgen.generate`.

    python -m jaxgen.generate --workdir runs/default --num_samples 64 --out samples/ \
        [--step N | --best] [--truncation 0.7] [--labels 3 | --labels 0,1,2] [--seed S]

The trainer is built from the run's config.json and its dataset's spec (no example is
read). Writes `<out>/samples.npz` (x: [N, ...] float32, images in [-1, 1]; y: the class
labels of a class-conditional model), `<out>/samples.png` (a grid of the first 64 images,
or a scatter of points) and `<out>/generate.json` (checkpoint, seed, truncation, labels).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable, Sequence

from absl import app, flags, logging
import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import evaluate, images
from jaxgen.checkpoint import restore_run
from jaxgen.data import DataSpec
from jaxgen.data.specs import dataset_spec
from jaxgen.errors import ConfigError, UserError
from jaxgen.trainers import Trainer, build_trainer

GRID_SIZE = 64  # images in samples.png


def generation_key(seed: int) -> jax.Array:
  """Key of `generate`: disjoint from the sample grid (fold_in 1) and evaluation (2)."""
  return jax.random.fold_in(jax.random.PRNGKey(seed), 3)


def restore_state(workdir: str, trainer: Trainer, seed: int, step: int | None = None,
                  best: bool = False) -> tuple[Any, int]:
  """(state, step) of the latest or given checkpoint of `workdir` (of `<workdir>/best`)."""
  return restore_run(workdir, trainer.init(jax.random.PRNGKey(seed)), step, best)


def parse_labels(text: str, num_classes: int, cond: str) -> list[int] | None:
  """'3' or '0,1,2' -> class labels checked against the model; '' -> None (the default)."""
  if not text:
    return None
  if not cond:
    raise ConfigError(f"--labels needs a class-conditional model; this run has "
                      f"model.cond='' (labels {text!r})")
  try:
    labels = [int(s) for s in text.split(",")]
  except ValueError:
    raise ConfigError(f"--labels must be comma-separated class indices, got {text!r}") from None
  bad = [l for l in labels if not 0 <= l < num_classes]
  if bad:
    raise ConfigError(f"--labels {bad} outside the model's classes 0..{num_classes - 1}")
  return labels


def labelled_sampler(trainer: Trainer, num_classes: int) -> Callable[..., jax.Array]:
  """sample(state, z [B, ...], y [B]) from a trainer whose `sample` cycles the labels.

  Trainer.sample gives row r the label r % num_classes (gan.py, autoencoder.py), so
  latent i goes to row i * K + y_i of a K times larger batch; in evaluation mode rows
  do not interact, and only those rows are kept.
  """
  def sample(state: Any, z: jax.Array, y: jax.Array) -> jax.Array:
    rows = jnp.arange(z.shape[0]) * num_classes + y
    wide = jnp.zeros((z.shape[0] * num_classes,) + z.shape[1:], z.dtype).at[rows].set(z)
    return trainer.sample(state, wide)[rows]
  return sample


def generate(trainer: Trainer, spec: DataSpec, state: Any, key: jax.Array, num_samples: int,
             *, batch_size: int = 250, truncation: float = 0.0,
             labels: Sequence[int] | None = None,
             conditional: bool = False) -> dict[str, np.ndarray]:
  """{'x': samples[, 'y': labels]}: batch i from trainer.noise(fold_in(key, i), batch_size).

  `truncation` > 0 draws latents from N(0, I) truncated to [-t, t] (as jaxgen.evaluate);
  `labels` (cycled to num_samples) picks each sample's class.
  """
  batch_size = min(batch_size, num_samples)
  sample = jax.jit(trainer.sample)
  labelled = jax.jit(labelled_sampler(trainer, spec.num_classes))
  xs, ys = [], []
  for i, start in enumerate(range(0, num_samples, batch_size)):
    batch_key = jax.random.fold_in(key, i)
    z = trainer.noise(batch_key, batch_size)
    if truncation > 0:
      z = jax.random.truncated_normal(batch_key, -truncation, truncation, z.shape, z.dtype)
    count = min(batch_size, num_samples - start)
    if labels is None:
      x = sample(state, z)
      y = np.arange(batch_size) % max(spec.num_classes, 1)
    else:
      y = np.asarray([labels[(start + j) % len(labels)] for j in range(batch_size)], np.int32)
      x = labelled(state, z, jnp.asarray(y))
    if spec.kind == "image":
      x = jnp.clip(x, -1.0, 1.0)
    xs.append(np.asarray(x, np.float32)[:count])
    ys.append(y[:count].astype(np.int32))
  out = {"x": np.concatenate(xs)}
  if conditional:
    out["y"] = np.concatenate(ys)
  return out


def generate_run(workdir: str, num_samples: int, out: str, *, step: int | None = None,
                 best: bool = False, truncation: float | None = None, labels: str = "",
                 seed: int | None = None, batch_size: int = 250) -> dict[str, Any]:
  """Samples a checkpoint of the run in `workdir` into `out`; returns generate.json's record."""
  if num_samples < 1:
    raise ConfigError(f"--num_samples must be >= 1, got {num_samples}")
  if batch_size < 1:
    raise ConfigError(f"--batch_size must be >= 1, got {batch_size}")
  config = evaluate.load_run(workdir)  # With today's defaults for fields an old run lacks.
  spec = dataset_spec(config.dataset)
  trainer = build_trainer(config, spec)
  state, step = restore_state(workdir, trainer, int(config.seed), step, best)
  cond = config.model.cond
  class_labels = parse_labels(labels, spec.num_classes, cond)
  if truncation is None:
    truncation = float(config.eval.truncation)
  if truncation < 0:
    raise ConfigError(f"--truncation must be >= 0 (0 = off), got {truncation}")
  seed = int(config.seed) if seed is None else seed
  result = generate(trainer, spec, state, generation_key(seed), num_samples,
                    batch_size=batch_size, truncation=truncation, labels=class_labels,
                    conditional=bool(cond))
  os.makedirs(out, exist_ok=True)
  np.savez(os.path.join(out, "samples.npz"), **result)
  grid_path = os.path.join(out, "samples.png")
  if spec.kind == "image":
    images.save_image_grid(grid_path, result["x"][:GRID_SIZE],
                           scale=max(1, 256 // (spec.shape[0] * 8)))
  else:
    images.save_scatter(grid_path, result["x"], title=f"{workdir} step {step}")
  record = {"workdir": os.path.abspath(workdir), "step": int(step), "best": best,
            "checkpoint": os.path.join(os.path.abspath(os.path.join(workdir, "best") if best
                                                       else workdir), "checkpoints", str(step)),
            "num_samples": num_samples, "seed": seed, "key": "fold_in(PRNGKey(seed), 3)",
            "truncation": truncation, "labels": class_labels, "dataset": spec.name,
            "shape": list(spec.shape), "files": ["samples.npz", "samples.png"]}
  with open(os.path.join(out, "generate.json"), "w", encoding="utf-8") as f:
    json.dump(record, f, indent=2, sort_keys=True)
  return record


def _define_flags() -> None:
  flags.DEFINE_string("workdir", None, "Run directory (with config.json and checkpoints/).",
                      required=True)
  flags.DEFINE_integer("num_samples", 64, "Number of samples.")
  flags.DEFINE_string("out", None, "Output directory; default <workdir>/generated.")
  flags.DEFINE_integer("step", None, "Checkpoint step; default the latest.")
  flags.DEFINE_bool("best", False, "Sample the best checkpoint (<workdir>/best/).")
  flags.DEFINE_float("truncation", None, "Truncate latents to [-t, t]; default eval.truncation.")
  flags.DEFINE_string("labels", "", "Class labels of a conditional model, e.g. 3 or 0,1,2 "
                      "(cycled over the samples); default: classes in turn.")
  flags.DEFINE_integer("seed", None, "Seed of the latents; default the run's seed.")
  flags.DEFINE_integer("batch_size", 250, "Samples per generator call.")


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  f = flags.FLAGS
  if not f["verbosity"].present:
    logging.set_verbosity(logging.WARNING)  # Orbax logs every restore at INFO.
  try:
    record = generate_run(f.workdir, f.num_samples, f.out or os.path.join(f.workdir, "generated"),
                          step=f.step, best=f.best, truncation=f.truncation, labels=f.labels,
                          seed=f.seed, batch_size=f.batch_size)
  except UserError as e:
    print(f"jaxgen: error: {e}", file=sys.stderr)
    sys.exit(1)
  print(json.dumps(record))


if __name__ == "__main__":
  _define_flags()
  app.run(main)
