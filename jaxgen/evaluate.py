"""Sample-quality evaluation of a run: during training and `python -m jaxgen.evaluate`.

    python -m jaxgen.evaluate --workdir runs/default [--step N | --best] [--num_samples N]

The CLI restores a checkpoint of the run in --workdir, evaluates it, writes
`<workdir>/eval.json` and appends `{"step": ..., "eval/<name>": ...}` to `metrics.jsonl`.
Metrics come from `config.eval` (jaxgen/config_base.py): FID, KID, IS, precision/recall,
density/coverage on the features of `eval.feature_net` (classifier-based ones are
suffixed with the dataset, e.g. `fid_digits`, and are NOT comparable with Inception
FID), mode coverage for 2-D Gaussian mixtures, and the trainer's own held-out metrics.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from typing import Any, Iterator

from absl import app, flags, logging
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from scipy import special

from jaxgen import config_base, config_check, data, metrics
from jaxgen.checkpoint import Checkpointer, restore_run
from jaxgen.errors import CheckpointError, ConfigError, UserError
from jaxgen.metrics import classifier, feature_nets, protocol
from jaxgen.trainers import Trainer, build_trainer
from jaxgen.writers import MetricWriter

BEST_MODES = ("auto", "min", "max")
# Metrics where higher is better (matched as the name or its prefix before '_').
_HIGHER_IS_BETTER = ("is", "precision", "recall", "density", "coverage", "modes_covered",
                     "high_quality_fraction", "elbo", "accuracy",
                     "entropic_log_likelihood")


def eval_key(seed: int) -> jax.Array:
  """The fixed PRNG key of every evaluation of a run: the same latents at each step.

  Disjoint from the training stream (state.key) and the sample grid (fold_in 1).
  """
  return jax.random.fold_in(jax.random.PRNGKey(seed), 2)


def higher_is_better(name: str) -> bool:
  return any(name == p or name.startswith(p + "_") for p in _HIGHER_IS_BETTER)


class Evaluator:
  """Evaluates train states of one run; real-data statistics are computed once, here."""

  def __init__(self, config: ml_collections.ConfigDict, trainer: Trainer,
               dataset: data.Dataset):
    self.config = ml_collections.ConfigDict(config.eval.to_dict())  # later edits stay out
    self.trainer = trainer
    if int(config.dataset.train_examples):  # limited data: the reference is the whole split
      dataset = data.get_dataset({**config.dataset.to_dict(), "train_examples": 0})
    self.dataset = dataset
    self.seed = int(config.seed)
    self.dataset_split = config.dataset.split
    self.num_samples = int(self.config.num_samples)
    self.batch_size = min(int(self.config.batch_size), self.num_samples)
    self.feature_net = feature_nets.get_feature_net(self.config, config.dataset, dataset.spec)
    self.is_mixture = dataset.spec.kind == "points" and hasattr(dataset, "means")
    self._generate = jax.jit(self._generate_batch)
    if self.feature_net is not None:
      self.real_stats, self.real_features = self._real_features()
    self._heldout, heldout = None, None
    if trainer.eval_metrics is not None:
      split = self.config.heldout_split
      if split == config.dataset.split:
        logging.warning("eval.heldout_split %r is the training split: the 'held-out' "
                        "metrics are measured on training data", split)
      self._heldout = classifier.held_out_dataset(config.dataset, split)
      self._eval_metrics = jax.jit(trainer.eval_metrics)
      heldout = {"split": split, "examples": self.heldout_examples}
    self.protocol = protocol.evaluation_protocol(
        self.config, config.dataset, dataset.spec, seed=self.seed,
        reference=self._reference if self.feature_net is not None else None,
        heldout=heldout)

  def _generate_batch(self, state: Any, key: jax.Array) -> jax.Array:
    t = float(self.config.truncation)
    z = self.trainer.noise(key, self.batch_size)
    if t > 0:  # BigGAN (Brock et al. 2019, Sec. 3.1): resample |z_i| > t.
      z = jax.random.truncated_normal(key, -t, t, z.shape, z.dtype)
    x = self.trainer.sample(state, z)
    return jnp.clip(x, -1.0, 1.0) if self.dataset.spec.kind == "image" else x

  def _real_features(self) -> tuple[metrics.GaussianStats, np.ndarray]:
    """Streams up to num_samples real examples (without replacement when the set is finite)."""
    n = min(self.num_samples, getattr(self.dataset, "num_examples", self.num_samples))
    self._reference = {"split": self.dataset_split, "examples": n,
                       "split_size": getattr(self.dataset, "num_examples", None)}
    stream = self.dataset.batches(self.batch_size, seed=self.seed)
    stats, kept = metrics.GaussianStats(), []
    for start in range(0, n, self.batch_size):
      x = next(stream)["x"][:n - start]
      f = self.feature_net.features(x, self.batch_size)
      stats = stats.update(f)
      kept.append(f)
    return stats, np.concatenate(kept)

  def sample_batches(self, state: Any, key: jax.Array) -> Iterator[np.ndarray]:
    """num_samples generated examples, batch_size at a time; batch i uses fold_in(key, i)."""
    for i, start in enumerate(range(0, self.num_samples, self.batch_size)):
      x = self._generate(state, jax.random.fold_in(key, i))
      yield np.asarray(x)[:self.num_samples - start]

  def samples(self, state: Any, key: jax.Array) -> np.ndarray:
    return np.concatenate(list(self.sample_batches(state, key)))

  def evaluate(self, state: Any, key: jax.Array) -> dict[str, float]:
    """All metrics of `state`: feature-based, mode coverage and the trainer's held-out ones.

    Samples are generated and featurised a batch at a time; only features are kept.
    """
    sample_key, heldout_key = jax.random.split(key)
    results: dict[str, float] = {}
    net = self.feature_net
    if net is not None or self.is_mixture:
      stats, feats, logits, points = metrics.GaussianStats(), [], [], []
      for x in self.sample_batches(state, sample_key):
        if net is not None:
          f, l = net.outputs(x, self.batch_size)
          stats = stats.update(f)
          feats.append(f)
          if l is not None:
            logits.append(l)
        if self.is_mixture:
          points.append(x)
      if net is not None:
        results.update(self._feature_metrics(stats, np.concatenate(feats), logits))
      if self.is_mixture:
        cov = metrics.mode_coverage(np.concatenate(points), self.dataset.means,
                                    self.dataset.stds, weights=self.dataset.weights)
        results.update({k: float(cov[k]) for k in
                        ("modes_covered", "high_quality_fraction", "reverse_kl")})
    if self._heldout is not None:
      results.update(self._heldout_metrics(state, heldout_key))
    return results

  def _feature_metrics(self, stats: metrics.GaussianStats, feats: np.ndarray,
                       logits: list[np.ndarray]) -> dict[str, float]:
    net, out = self.feature_net, {}
    out[net.metric_name("fid")] = metrics.frechet_distance(
        self.real_stats.mean(), self.real_stats.covariance(), stats.mean(), stats.covariance())
    kid, kid_std = metrics.kernel_inception_distance(
        self.real_features, feats, num_subsets=int(self.config.kid_subsets))
    out[net.metric_name("kid")], out[net.metric_name("kid") + "_std"] = kid, kid_std
    if logits:
      probs = special.softmax(np.concatenate(logits).astype(np.float64), axis=-1)
      score, std = metrics.inception_score(probs, splits=min(10, len(probs)))
      out[net.metric_name("is")], out[net.metric_name("is") + "_std"] = score, std
    pr = {**metrics.precision_recall(self.real_features, feats, k=3),
          **metrics.density_coverage(self.real_features, feats, k=5)}
    out.update({net.metric_name(k): v for k, v in pr.items()})
    return out

  @property
  def heldout_examples(self) -> int:
    """Examples of the held-out metrics: the whole split (num_samples of an endless source)."""
    return int(getattr(self._heldout, "num_examples", self.num_samples))

  def _heldout_metrics(self, state: Any, key: jax.Array) -> dict[str, float]:
    """The trainer's eval_metrics (batch means) averaged over every held-out example.

    The first n examples of the stream are one epoch, each example once; the last,
    smaller batch (a second compilation) weighs by its size.
    """
    n = self.heldout_examples
    batch_size = min(self.batch_size, n)
    stream = self._heldout.batches(batch_size, seed=self.seed)
    totals: dict[str, float] = {}
    for i, start in enumerate(range(0, n, batch_size)):
      count = min(batch_size, n - start)
      batch = {k: v[:count] for k, v in next(stream).items()}
      m = jax.device_get(self._eval_metrics(state, batch, jax.random.fold_in(key, i)))
      for k, v in m.items():
        totals[k] = totals.get(k, 0.0) + float(np.mean(v)) * count / n
    return totals

  def metric_names(self) -> list[str]:
    """Names `evaluate` returns, found without evaluating (shapes only)."""
    names = []
    if self.feature_net is not None:
      net = self.feature_net
      with_std = ["kid", "is"] if net.has_logits else ["kid"]
      names += [net.metric_name(b) for b in ["fid"] + with_std]
      names += [net.metric_name(b) + "_std" for b in with_std]
      names += [net.metric_name(b) for b in ("precision", "recall", "density", "coverage")]
    if self.is_mixture:
      names += ["modes_covered", "high_quality_fraction", "reverse_kl"]
    if self._heldout is not None:
      spec = self.dataset.spec
      batch = {"x": jax.ShapeDtypeStruct((2,) + tuple(spec.shape), np.float32),
               "y": jax.ShapeDtypeStruct((2,), np.int32)}
      state = jax.eval_shape(self.trainer.init, jax.random.PRNGKey(0))
      names += list(jax.eval_shape(self.trainer.eval_metrics, state, batch,
                                   jax.random.PRNGKey(0)))
    return names

  def best_metric(self) -> tuple[str, str] | None:
    """(metric, 'min' | 'max') that picks the best checkpoint, or None if there is none."""
    name = self.config.best_metric
    if not name:
      if self.feature_net is not None:
        name = self.feature_net.metric_name("fid")
      elif self.is_mixture:
        name = "modes_covered"
      else:
        return None
    names = self.metric_names()
    if name not in names:
      raise ConfigError(f"eval.best_metric {name!r} is not evaluated here; choose one of: "
                        f"{', '.join(names)}")
    mode = self.config.best_mode
    return name, (("max" if higher_is_better(name) else "min") if mode == "auto" else mode)


class BestTracker:
  """Keeps the state with the best value of one metric in `<workdir>/best/` + `best.json`.

  best.json ({step, metric, mode, value}) is read back when a run resumes, so the
  tracking continues across restarts; it is written after the checkpoint is complete.
  """

  def __init__(self, workdir: str, metric: str, mode: str):
    self.metric, self.mode = metric, mode
    self.path = os.path.join(workdir, "best.json")
    self.directory = os.path.join(workdir, "best")
    self.best = read_best(workdir)
    if self.best and (self.best.get("metric"), self.best.get("mode")) != (metric, mode):
      self.best = None  # Another metric or direction picked it; start over.
    self._checkpointer = None

  def improves(self, value: float) -> bool:
    if not math.isfinite(value):
      return False
    if self.best is None:
      return True
    return value > self.best["value"] if self.mode == "max" else value < self.best["value"]

  def update(self, step: int, results: dict[str, float], state: Any) -> bool:
    """Saves `state` if results[metric] beats the best so far; returns whether it did."""
    value = float(results[self.metric])
    if not self.improves(value):
      return False
    if self.best is not None and self.best["step"] > step:
      self.close()  # A later best from before a restart: drop it, keep one checkpoint.
      shutil.rmtree(self.directory, ignore_errors=True)
    if self._checkpointer is None:
      self._checkpointer = Checkpointer(self.directory, max_to_keep=1, async_save=False)
    self._checkpointer.save(step, state)
    self._checkpointer.wait()
    self.best = {"step": int(step), "metric": self.metric, "mode": self.mode, "value": value}
    _write_json(self.path, self.best)
    return True

  def close(self) -> None:
    if self._checkpointer is not None:
      self._checkpointer.close()
      self._checkpointer = None


def read_best(workdir: str) -> dict[str, Any] | None:
  path = os.path.join(workdir, "best.json")
  if not os.path.exists(path):
    return None
  with open(path, encoding="utf-8") as f:
    return json.load(f)


def _write_json(path: str, obj: Any) -> None:
  if jax.process_index() != 0:
    return  # every process of a multi-process run evaluates; process 0 writes
  tmp = path + ".tmp"
  with open(tmp, "w", encoding="utf-8") as f:
    json.dump(obj, f, indent=2, sort_keys=True)
  os.replace(tmp, path)


class TrainingEvaluation:
  """The train loop's hook: every eval.every steps, log `eval/<metric>` and track the best."""

  def __init__(self, evaluator: Evaluator, tracker: BestTracker | None, seed: int):
    self.evaluator, self.tracker = evaluator, tracker
    self.every = int(evaluator.config.every)
    self._key = eval_key(seed)

  @classmethod
  def create(cls, config: ml_collections.ConfigDict, trainer: Trainer, dataset: data.Dataset,
             workdir: str) -> TrainingEvaluation | None:
    """None when eval.every is 0 (off)."""
    if config.eval.every == 0:
      return None
    evaluator = Evaluator(config, trainer, dataset)
    best = evaluator.best_metric()
    return cls(evaluator, BestTracker(workdir, *best) if best else None, config.seed)

  def due(self, before: int, after: int, num_steps: int) -> bool:
    """Whether a multiple of `every` lies in (before, after], or training ends at `after`."""
    return after // self.every > before // self.every or after == num_steps

  def __call__(self, state: Any, step: int, writer: MetricWriter) -> dict[str, float]:
    start = time.time()
    results = self.evaluator.evaluate(state, self._key)
    if self.tracker is not None:
      self.tracker.update(step, results, state)
    scalars = {f"eval/{k}": v for k, v in results.items()}
    writer.write_scalars(step, {**scalars, "eval/time_s": time.time() - start,
                                "eval/protocol": {**self.evaluator.protocol, "step": step}})
    return results

  def close(self) -> None:
    if self.tracker is not None:
      self.tracker.close()


def load_run(workdir: str) -> ml_collections.ConfigDict:
  """The config.json of a run directory over today's defaults, or a one-line CheckpointError."""
  if not os.path.isdir(workdir):
    raise CheckpointError(f"no run directory {workdir}")
  path = os.path.join(workdir, "config.json")
  if not os.path.isfile(path):
    raise CheckpointError(f"no config.json in {workdir}; is it a jaxgen run directory?")
  with open(path, encoding="utf-8") as f:
    return config_base.with_defaults(json.load(f))  # older runs lack newer fields


def evaluate_run(workdir: str, step: int | None = None, *, best: bool = False,
                 overrides: dict[str, Any] | None = None) -> dict[str, Any]:
  """Evaluates a checkpoint of the run in `workdir`; writes eval.json, appends metrics.jsonl."""
  start = time.time()
  config = load_run(workdir)
  config.eval.update({k: v for k, v in (overrides or {}).items() if v is not None})
  config_check.validate(config)
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  state, step = restore_run(workdir, trainer.init(jax.random.PRNGKey(config.seed)), step,
                            best)
  evaluator = Evaluator(config, trainer, dataset)
  results = evaluator.evaluate(state, eval_key(config.seed))
  net = evaluator.feature_net
  record = {"step": int(step), "metrics": results,
            "feature_net": net.description if net is not None else "none",
            "num_samples": evaluator.num_samples, "truncation": float(config.eval.truncation),
            "checkpoint": os.path.join(os.path.abspath(os.path.join(workdir, "best") if best
                                                       else workdir), "checkpoints", str(step)),
            "protocol": {**evaluator.protocol, "step": int(step)},
            "wall_time_s": time.time() - start}
  _write_json(os.path.join(workdir, "eval.json"), record)
  writer = MetricWriter(workdir)
  writer.write_scalars(step, {**{f"eval/{k}": v for k, v in results.items()},
                              "eval/protocol": record["protocol"]})
  writer.close()
  return record


def _define_flags() -> None:
  """CLI flags, defined only when run as a script (train.py imports this module)."""
  flags.DEFINE_string("workdir", None, "Run directory (with config.json and checkpoints/).",
                      required=True)
  flags.DEFINE_integer("step", None, "Checkpoint step; default the latest.")
  flags.DEFINE_bool("best", False, "Evaluate the best checkpoint (<workdir>/best/).")
  flags.DEFINE_integer("num_samples", None, "Overrides eval.num_samples.")
  flags.DEFINE_integer("batch_size", None, "Overrides eval.batch_size.")
  flags.DEFINE_enum("feature_net", None, list(feature_nets.FEATURE_NETS),
                    "Overrides eval.feature_net.")
  flags.DEFINE_string("feature_net_dir", None, "Overrides eval.feature_net_dir.")
  flags.DEFINE_string("inception_weights", None, "Overrides eval.inception_weights.")
  flags.DEFINE_enum("resize", None, ["tf_bilinear", "pil_bicubic", "torch_bilinear"],
                    "Overrides eval.resize (the Inception input filter).")
  flags.DEFINE_float("truncation", None, "Overrides eval.truncation.")


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  f = flags.FLAGS
  if not f["verbosity"].present:
    logging.set_verbosity(logging.WARNING)  # Orbax logs every restore at INFO.
  overrides = {k: f[k].value for k in ("num_samples", "batch_size", "feature_net",
                                        "feature_net_dir", "inception_weights", "truncation",
                                        "resize")}
  try:
    record = evaluate_run(f.workdir, f.step, best=f.best, overrides=overrides)
  except UserError as e:
    print(f"jaxgen: error: {e}", file=sys.stderr)
    sys.exit(1)
  print(json.dumps(record))


if __name__ == "__main__":
  _define_flags()
  app.run(main)
