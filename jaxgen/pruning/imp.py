"""Iterative magnitude pruning with rewinding: the lottery-ticket driver (Kalibhat et al. 2021).

Round 0 trains the dense model; round r >= 1 rewinds to the rewind point (the state at
`pruning.rewind_step`, saved as a checkpoint), applies the round's mask (sparsity
1 - (1 - fraction)^r) and trains again; IMP's next mask prunes the smallest weights of
the trained round. Baselines at the same sparsities: `random` (IMP's per-layer counts,
random positions), `reinit` (IMP's masks on another initialisation), `snip`, `grasp`
(GAN, AE or VAE objectives, jaxgen/pruning/objectives.py). `transfer` trains another
model's tickets: round r applies the masks of the scoped nets from `pruning.reference`'s
round r (e.g. a GAN generator's ticket as a VAE decoder) at this run's rewind point.

    python -m jaxgen.main --config configs/lottery/imp_dcgan_digits.py \
        --workdir runs/lottery/imp

(`config.experiment = 'lottery'`, set by config_base.lottery(), makes jaxgen.main run it.)

Writes per round `round_<r>/` (the training run), `masks/round_<r>.npz`, a record in
`imp.jsonl` and the plot `sparsity_vs_<metric>.png` of the headline metric
(`pruning.metric`). Re-running resumes: finished rounds are read back from their
checkpoints.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgen import config_check, data, train
from jaxgen.checkpoint import Checkpointer
from jaxgen.errors import ConfigError
from jaxgen.metrics.frechet import fid_from_features
from jaxgen.pruning import baselines, flops, masks, objectives, state as state_lib
from jaxgen.pruning.magnitude import magnitude_prune, sparsity_after
from jaxgen.pruning.rewind import rewind
from jaxgen.trainers import Trainer, autoencoder, build_trainer

METHODS = ("imp", "random", "reinit", "snip", "grasp", "transfer")
REFERENCE_METHODS = ("random", "reinit", "transfer")  # masks from pruning.reference
QUALITIES = ("eval", "pixels")
# Headlines when the evaluator has no best metric (no feature net): -ELBO, else recon. MSE.
HELD_OUT_HEADLINES = ("nelbo", "mse")
QualityFn = Callable[[Any], dict[str, float]]  # trained state -> metrics


def pixel_frechet(config: ml_collections.ConfigDict, trainer: Trainer,
                  dataset: data.Dataset) -> QualityFn:
  """Fréchet distance of raw pixels, samples vs real examples: a fast stand-in metric.

  It ranks models of one dataset only; `pruning.quality='eval'` gives FID-<dataset>.
  """
  n = config.pruning.pixel_samples
  z = trainer.noise(jax.random.PRNGKey(config.seed + 1), n)
  real = np.asarray(dataset.sample(n, seed=config.seed)["x"]).reshape(n, -1)
  sample = jax.jit(trainer.sample)
  return lambda state: {"fd_pixels": fid_from_features(
      np.asarray(sample(state, z)).reshape(n, -1), real)}


def make_quality(config: ml_collections.ConfigDict, trainer: Trainer,
                 dataset: data.Dataset) -> QualityFn:
  """The per-round quality metrics named by `pruning.quality`, the headline metric first.

  The headline is `pruning.metric`, any evaluated name (e.g. 'nelbo', 'mse', 'fid_digits');
  '' = the evaluator's best metric (eval.best_metric, else FID-<dataset>), or without a
  feature net a VAE's held-out -ELBO ('nelbo') or an AE's reconstruction MSE ('mse').
  """
  kind = config.pruning.quality
  metric = config.pruning.metric
  if kind not in QUALITIES:
    raise ConfigError(f"unknown pruning.quality {kind!r}; choose one of: "
                      f"{', '.join(QUALITIES)}")
  if kind == "pixels":
    if metric not in ("", "fd_pixels"):
      raise ConfigError(f"pruning.metric {metric!r} is not evaluated with "
                        "pruning.quality='pixels' (only fd_pixels); set pruning.quality='eval'")
    return pixel_frechet(config, trainer, dataset)
  from jaxgen import evaluate  # pylint: disable=import-outside-toplevel
  evaluator = evaluate.Evaluator(config, trainer, dataset)
  names = evaluator.metric_names()
  if metric and metric not in names:
    raise ConfigError(f"pruning.metric {metric!r} is not evaluated here; choose one of: "
                      f"{', '.join(names)}")
  if not metric:
    best = evaluator.best_metric()
    metric = best[0] if best else next((n for n in HELD_OUT_HEADLINES if n in names), "")
  key = evaluate.eval_key(config.seed)

  def quality(state: Any) -> dict[str, float]:
    results = evaluator.evaluate(state, key)
    first = {metric: results[metric]} if metric else {}
    return {**first, **results}

  return quality


def validate(config: ml_collections.ConfigDict) -> None:
  """One-line errors for a bad field (config_check) or pruning settings that cannot work."""
  if "pruning" not in config:
    raise ConfigError("config.pruning is missing: add config_base.pruning() (or use "
                      "config_base.lottery())")
  config_check.validate(config)
  p = config.pruning
  if p.method in REFERENCE_METHODS and not p.reference:
    raise ConfigError(f"pruning.method {p.method!r} reuses IMP's masks: set "
                      "pruning.reference to the workdir of an IMP run")
  k = p.rewind_step
  if k < 0 or k % config.train.steps_per_call or k >= config.train.num_steps:
    raise ConfigError(f"pruning.rewind_step={k} must be a multiple of "
                      f"train.steps_per_call={config.train.steps_per_call} below "
                      f"train.num_steps={config.train.num_steps}")


def masked_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """`config` with a mask in every net's optimizer (so every round's checkpoint matches)."""
  config = ml_collections.ConfigDict(config.to_dict())
  for net in config.optim.keys():
    config.optim[net].masked = True
  return config


def _train_steps(trainer: Trainer, config, dataset, state: Any, num_steps: int) -> Any:
  """The first `num_steps` steps of the training loop (same data order and chunks)."""
  step_fn = jax.jit(lambda s, b: jax.lax.scan(trainer.train_step, s, b)[0])
  batches = train.stacked_batches(dataset, config, trainer.batches_per_step, 0)
  for _ in range(num_steps // config.train.steps_per_call):
    state = step_fn(state, next(batches))
  return state


def rewind_point(config, trainer: Trainer, dataset, template: Any, workdir: str) -> Any:
  """The state at `pruning.rewind_step` (k = 0: the initialisation), saved as a checkpoint."""
  k = config.pruning.rewind_step
  if k == 0:
    return jax.device_get(template)
  checkpointer = Checkpointer(os.path.join(workdir, "rewind_point"), async_save=False)
  try:
    point, step = checkpointer.restore(template)
    if step is None:
      point = _train_steps(trainer, config, dataset, template, k)
      checkpointer.save(k, point)
  finally:
    checkpointer.close()
  return jax.device_get(point)


def _mismatch(mask: masks.Mask, theirs: dict[str, np.ndarray], path: str) -> str | None:
  """The first difference between a net's mask tree and its flat masks in `path`, if any."""
  ours = {masks.path_string(q): np.shape(leaf) for q, leaf in masks.named_leaves(mask)}
  for k, shape in ours.items():
    if k not in theirs:
      return f"leaf {k!r} is missing from {path}"
    if theirs[k].shape != shape:
      return f"leaf {k!r} has shape {theirs[k].shape} in {path}, {shape} here"
  extra = sorted(set(theirs) - set(ours))
  return f"leaf {extra[0]!r} of {path} is not in this model" if extra else None


def reference_ticket(config: ml_collections.ConfigDict, r: int,
                     like: state_lib.Ticket) -> state_lib.Ticket:
  """Round r's masks of the nets in `like` ({net: mask}) from the run `pruning.reference`.

  One-line errors when that run lacks the round or a net, or when a net's mask tree
  differs from this model's (a leaf missing, extra or of another shape).
  """
  ref = config.pruning.reference
  path = os.path.join(ref, "masks", f"round_{r}.npz")
  if not os.path.exists(path):
    raise ConfigError(f"pruning.reference has no masks for round {r} ({path}); run IMP "
                      "with at least as many rounds first")
  with np.load(path) as f:
    arrays = dict(f)
  ticket = {}
  for net, mask in like.items():
    theirs = {k[len(net) + 1:]: v for k, v in arrays.items() if k.startswith(net + "/")}
    if not theirs:
      have = sorted({k.split("/", 1)[0] for k in arrays})
      raise ConfigError(f"pruning.reference {ref!r} has no masks for net {net!r} (it has: "
                        f"{', '.join(have)}); set pruning.scope to a net it pruned")
    problem = _mismatch(mask, theirs, path)
    if problem:
      raise ConfigError(f"pruning.reference masks do not match net {net!r}: {problem}")
    ticket[net] = masks.from_numpy(theirs, mask)
  return jax.device_get(ticket)


def saliency_objective(config: ml_collections.ConfigDict, state: Any,
                       dataset: data.Dataset, nets: tuple[str, ...]):
  """(loss_fn, params) of SNIP/GraSP: the trainer's objective on one real batch."""
  n = config.pruning.saliency_batch
  batch = dataset.sample(n, seed=config.seed)
  x, y = jnp.asarray(batch["x"]), jnp.asarray(batch["y"])
  key = jax.random.PRNGKey(config.seed + 2)
  kind = config.trainer
  if kind == "gan":
    if not all(name in ("g", "d") for name in nets):
      raise ConfigError(f"pruning.method {config.pruning.method!r} needs a GAN (nets g, d)")
    z = jax.random.normal(key, (n, config.model.latent_dim))
    return objectives.gan_objective(config.loss.name, state, x, y, z, nets)
  if kind in ("ae", "vae"):
    loss = autoencoder.autoencoder(config, dataset.spec, variational=kind == "vae").loss
    return objectives.autoencoder_objective(loss, state, x, y, key, nets)
  raise ConfigError(f"pruning.method {config.pruning.method!r} needs a gan, ae or vae "
                    f"trainer, got {kind!r}")


def ticket_sparsities(ticket: Any, nets: Sequence[str], prunable) -> dict[str, float]:
  """Sparsity of the pruned nets together and of each ('sparsity_<net>').

  Each net's mask keeps its name in the path, so 'g/...' exclude patterns match there too.
  """
  return {"sparsity": masks.sparsity({n: ticket[n] for n in nets}, prunable),
          **{f"sparsity_{n}": masks.sparsity({n: ticket[n]}, prunable) for n in nets}}


def _saliency_ticket(config, point: Any, dataset, nets, dense, sparsity, prunable):
  """A SNIP or GraSP mask at `sparsity`, scored at the rewind point on one real batch."""
  loss_fn, params = saliency_objective(config, point, dataset, nets)
  pick = baselines.snip_mask if config.pruning.method == "snip" else baselines.grasp_mask
  return pick(loss_fn, params, sparsity, mask=dense,
              layerwise=config.pruning.layerwise, prunable=prunable)


def _net_inputs(name: str, trainer: Trainer, spec: data.DataSpec) -> tuple:
  y = jnp.zeros((1,), jnp.int32)
  if name == "g":
    return trainer.noise(jax.random.PRNGKey(0), 1), y
  return jnp.zeros((1,) + tuple(spec.shape)), y


def ticket_flops(trainer: Trainer, spec, state: Any, ticket: state_lib.Ticket
                 ) -> dict[str, float]:
  """Dense and masked forward FLOPs per example of every net, and their ratio."""
  out, dense_total, sparse_total = {}, 0.0, 0.0
  for name in state_lib.net_names(state):
    layers = flops.net_layers(getattr(state, name), *_net_inputs(name, trainer, spec))
    dense = flops.forward_flops(layers)
    sparse = flops.forward_flops(layers, ticket.get(name))
    out[f"flops_{name}_dense"], out[f"flops_{name}"] = dense, sparse
    dense_total, sparse_total = dense_total + dense, sparse_total + sparse
  out["flops_ratio"] = sparse_total / dense_total
  return out


def _read_records(path: str) -> dict[int, dict]:
  if not os.path.exists(path):
    return {}
  with open(path, encoding="utf-8") as f:
    return {r["round"]: r for r in map(json.loads, filter(str.strip, f))}


def read_records(workdir: str) -> list[dict]:
  """The per-round records of a finished (or partial) run, in round order."""
  return [r for _, r in sorted(_read_records(os.path.join(workdir, "imp.jsonl")).items())]


def plot(runs: dict[str, list[dict]], metric: str, path: str) -> None:
  """`metric` against sparsity, one line per run ({label: records}), one point per round."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  fig, ax = plt.subplots(figsize=(5, 3.5))
  for label, records in runs.items():
    ax.plot([100 * r["sparsity"] for r in records], [r[metric] for r in records], "o-",
            label=label)
  ax.set_xlabel("sparsity of the pruned nets (%)")
  ax.set_ylabel(metric)
  ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def run(config: ml_collections.ConfigDict, workdir: str, *,
        quality_fn: QualityFn | None = None) -> list[dict]:
  """Runs every round of `config.pruning` in `workdir`; returns the per-round records.

  `quality_fn(state) -> metrics` overrides `pruning.quality` (the first metric is plotted).
  """
  validate(config)
  config = masked_config(config)
  p = config.pruning
  os.makedirs(os.path.join(workdir, "masks"), exist_ok=True)
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  template = trainer.init(jax.random.PRNGKey(config.seed))
  nets = state_lib.scope_nets(template, p.scope)
  prunable = masks.make_prunable(p.prunable, [s for s in p.exclude.split(",") if s])
  dense = jax.device_get(state_lib.get_masks(template))
  references = {}  # every round's reference masks, read (and checked) before training
  if p.method in REFERENCE_METHODS:
    references = {r: reference_ticket(config, r, {n: dense[n] for n in nets})
                  for r in range(1, p.rounds + 1)}
  quality_fn = quality_fn or make_quality(config, trainer, dataset)
  if p.method == "reinit":  # IMP's masks on the weights of another initialisation
    point = jax.device_get(trainer.init(jax.random.fold_in(
        jax.random.PRNGKey(config.seed), 1)))
  else:
    point = rewind_point(config, trainer, dataset, template, workdir)
  log_path = os.path.join(workdir, "imp.jsonl")
  done = _read_records(log_path)
  ticket, records = dense, []
  for r in range(0 if p.method == "imp" else 1, p.rounds + 1):
    target = sparsity_after(r, p.fraction)
    scoped = {n: ticket[n] for n in nets}
    if r > 0 and p.method == "imp":
      scoped = magnitude_prune(state_lib.params_of(trained, nets), scoped, target,
                               layerwise=p.layerwise, prunable=prunable)
    elif p.method in REFERENCE_METHODS:
      scoped = references[r]
      if p.method == "random":
        scoped = baselines.random_like(scoped, jax.random.PRNGKey(config.seed + r),
                                       prunable)
    elif p.method in ("snip", "grasp"):
      scoped = _saliency_ticket(config, point, dataset, nets, scoped, target, prunable)
    ticket = jax.device_get({**dense, **scoped})
    np.savez(os.path.join(workdir, "masks", f"round_{r}.npz"),
             **masks.to_numpy({n: ticket[n] for n in nets}))

    start = time.time()
    hook = None if r == 0 else (
        lambda s, t=ticket: rewind(s, point, t, reset_optimizer=p.reset_optimizer))
    trained = train.train_and_evaluate(config, os.path.join(workdir, f"round_{r}"),
                                       init_state=hook)
    trained = jax.device_get(trained)
    quality = {k: float(v) for k, v in quality_fn(trained).items()}
    record = {"round": r, "method": p.method, "target_sparsity": target,
              **ticket_sparsities(ticket, nets, prunable),
              **({"reference": p.reference} if p.method in REFERENCE_METHODS else {}),
              "wall_time_s": time.time() - start,
              **ticket_flops(trainer, dataset.spec, trained, ticket), **quality}
    if r in done:  # a resumed round keeps the wall time of the run that trained it
      record["wall_time_s"] = done[r]["wall_time_s"]
    records.append(record)
    with open(log_path, "w", encoding="utf-8") as f:
      f.writelines(json.dumps(rec) + "\n" for rec in records)
    if quality:
      metric = next(iter(quality))
      plot({p.method: records}, metric,
           os.path.join(workdir, f"sparsity_vs_{metric}.png"))
  return records

