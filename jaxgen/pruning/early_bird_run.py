"""Early-bird channel tickets of a DCGAN (You et al. 2020, as in Kalibhat et al. 2021).

    python -m jaxgen.main --config configs/lottery/early_bird_dcgan_digits.py \
        --workdir runs/lottery/early_bird_dcgan_digits

(`config.experiment = 'early_bird'`, set by config_base.early_bird_experiment(), makes
jaxgen.main run it.)

1. search/: the dense GAN trains, with network slimming's L1 penalty `early_bird.l1` on
   the BatchNorm scales (0 = none); every `early_bird.every` steps a channel mask prunes
   the share `ratio` of the BatchNorm channels of G, and of D, with the smallest |scale|
   (one global threshold per network). Training stops at the early-bird (EB) ticket: the first mask
   within `threshold` normalised Hamming distance of each of the last `lookback` masks;
   or at `max_search_steps`, whose mask is then used.
2. ticket/: the physically narrower DCGAN (`model.g_channels` / `d_channels`) starts
   from the dense weights of the kept channels (at the EB step, or at the dense
   initialisation with init='init') and trains with a fresh optimizer: train.num_steps
   steps (budget='full', as the EB paper retrains), or the num_steps - EB step left of
   the dense schedule (budget='rest', init='found': the same number of steps as dense).
3. dense/ (with `early_bird.baseline`): the dense model trains train.num_steps.

Writes early_bird.json: EB step, channels kept, forward and training FLOPs, wall times
(each run starts from cleared JAX caches, so compiles its own programs) and the metrics
of the ticket (and of the dense model). Re-running resumes: the search result is kept
in search/ and finished runs are read back from their checkpoints.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any, Callable

import jax
import ml_collections
import numpy as np

from jaxgen import config_base, config_check, data, train
from jaxgen.checkpoint import Checkpointer
from jaxgen.errors import ConfigError
from jaxgen.models import dcgan
from jaxgen.pruning import channels, early_bird, flops, imp
from jaxgen.trainers import build_trainer

INITS = ("found", "init")
BUDGETS = ("full", "rest")
QualityFn = Callable[[Any], dict[str, float]]  # trained state -> metrics


def validate(config: ml_collections.ConfigDict) -> None:
  """One-line errors for a bad field (config_check) or early-bird settings that cannot work."""
  if "early_bird" not in config:
    raise ConfigError("config.early_bird is missing: add config_base.early_bird()")
  config_check.validate(config)
  eb, t = config.early_bird, config.train
  channels.check_supported(config.model)
  if eb.every % t.steps_per_call:
    raise ConfigError(f"early_bird.every={eb.every} must be a positive multiple of "
                      f"train.steps_per_call={t.steps_per_call}")
  m = eb.max_search_steps
  if m > t.num_steps or m % t.steps_per_call:
    raise ConfigError(f"early_bird.max_search_steps={m} must be 0 or a multiple of "
                      f"train.steps_per_call={t.steps_per_call} up to "
                      f"train.num_steps={t.num_steps}")
  if eb.budget == "rest" and eb.init != "found":
    raise ConfigError("early_bird.budget='rest' continues the weights at the EB step: it "
                      "needs early_bird.init='found'")


def _read_json(path: str, default: Any) -> Any:
  if not os.path.exists(path):
    return default
  with open(path, encoding="utf-8") as f:
    return json.load(f)


def _write_json(path: str, obj: Any) -> None:
  with open(path + ".tmp", "w", encoding="utf-8") as f:
    json.dump(obj, f, indent=1)
  os.replace(path + ".tmp", path)


def _latest_step(workdir: str) -> int | None:
  checkpointer = Checkpointer(workdir, async_save=False)
  try:
    return checkpointer.latest_step()
  finally:
    checkpointer.close()


def _distances(earlier: list[dict], mask: dict, lookback: int,
               threshold: float) -> tuple[bool, list[float]]:
  """Whether `mask` is the EB ticket given the masks before it, and its distances to them."""
  search = early_bird.init_search(mask, lookback, threshold)
  for m in earlier:
    search, _, _ = early_bird.search_step(search, m)
  _, found, distances = early_bird.search_step(search, mask)
  return bool(found), [float(d) for d in np.asarray(distances)[lookback - len(earlier):]]


def _mask(log: dict, step: int) -> dict[str, np.ndarray]:
  return {k: np.asarray(v, bool) for k, v in log["masks"][str(step)].items()}


def _result(log: dict, last: int, limit: int) -> dict | None:
  """The search result once its run reached step `last`: the first EB step, or the limit."""
  steps = sorted(int(s) for s in log["masks"] if int(s) <= last)
  hits = [s for s in steps if log["found"][str(s)]]
  if hits:
    return {"eb_step": hits[0], "found": True}
  if last >= limit and last in steps:
    return {"eb_step": last, "found": False}
  return None


def search_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The dense search's config: every optimizer adds `early_bird.l1` * sign(gamma) to the
  BatchNorm scales' gradients (network slimming, as You et al. search); the ticket and
  the dense baseline train without it."""
  config = ml_collections.ConfigDict(config.to_dict())
  for net in config.optim:
    config.optim[net].bn_l1 = config.early_bird.l1
  return config


def search(config: ml_collections.ConfigDict, workdir: str) -> dict:
  """Runs (or resumes) the dense search in `workdir`; returns its log with the result.

  The log (search/early_bird_search.json) holds every mask, its distances to the
  previous ones, the result and the wall time.
  """
  eb, limit = config.early_bird, config.early_bird.max_search_steps or config.train.num_steps
  os.makedirs(workdir, exist_ok=True)
  path = os.path.join(workdir, "early_bird_search.json")
  settings = {k: eb[k] for k in ("ratio", "every", "lookback", "threshold", "l1")}
  settings["limit"] = limit
  log = _read_json(path, {"settings": settings, "masks": {}, "found": {}, "distances": {},
                          "wall_time_s": 0.0})
  if log["settings"] != settings:
    raise ConfigError(f"{workdir} holds a search with other settings ({log['settings']}, "
                      f"now {settings}); use a new --workdir")
  latest = _latest_step(workdir)
  result = None if latest is None else _result(log, latest, limit)
  if result is not None:
    return {**log, "result": result}

  def on_step(state: Any, step: int) -> bool:
    if step % eb.every and step != limit:
      return False
    mask = jax.device_get(early_bird.channel_mask_per_net(
        {"g": state.g.params, "d": state.d.params}, eb.ratio))
    earlier = [_mask(log, s) for s in sorted(int(s) for s in log["masks"]) if s < step]
    found, distances = _distances(earlier[-eb.lookback:], mask, eb.lookback, eb.threshold)
    log["masks"][str(step)] = {k: np.asarray(v).astype(int).tolist() for k, v in mask.items()}
    log["found"][str(step)], log["distances"][str(step)] = found, distances
    _write_json(path, log)
    return found or step >= limit

  jax.clear_caches()  # compiles its own programs, as a separate process would
  start = time.time()
  state = train.train_and_evaluate(search_config(config), workdir, on_step=on_step)
  log["wall_time_s"] += time.time() - start
  result = _result(log, int(jax.device_get(state.step)), limit)
  if result is None:
    raise ValueError(f"the search run in {workdir} ended without early-bird masks (it "
                     "was trained without this driver?); use a new --workdir")
  log["result"] = result
  _write_json(path, log)
  return log


def _timed_train(config: ml_collections.ConfigDict, workdir: str,
                 **kwargs) -> tuple[Any, float]:
  """train_and_evaluate, with the wall time summed over runs that trained (wall_time.json)."""
  path = os.path.join(workdir, "wall_time.json")
  seconds = _read_json(path, {"wall_time_s": 0.0})["wall_time_s"]
  finished = _latest_step(workdir) == config.train.num_steps
  if not finished:
    jax.clear_caches()  # no run reuses another's compiled programs: fair wall times
  start = time.time()
  state = jax.device_get(train.train_and_evaluate(config, workdir, **kwargs))
  if not finished:
    seconds += time.time() - start
    _write_json(path, {"wall_time_s": seconds})
  return state, seconds


def _forward_flops(state: Any, config: ml_collections.ConfigDict,
                   spec: data.DataSpec) -> dict[str, float]:
  layers = flops.gan_layers(state, config.model.latent_dim, spec.shape)
  return {net: flops.forward_flops(net_layers) for net, net_layers in layers.items()}


def _num_params(state: Any) -> int:
  return sum(math.prod(x.shape) for x in jax.tree.leaves((state.g.params, state.d.params)))


def _quality_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """`config` with the `pruning.quality` fields that imp.make_quality reads."""
  config = ml_collections.ConfigDict(config.to_dict())
  config.pruning = config_base.pruning()
  config.pruning.update(dict(quality=config.early_bird.quality,
                             pixel_samples=config.early_bird.pixel_samples))
  return config


def run(config: ml_collections.ConfigDict, workdir: str, *,
        quality_fn: QualityFn | None = None) -> dict:
  """Searches, shrinks and trains the EB ticket (and the dense baseline); returns the record.

  `quality_fn(state) -> metrics` overrides `early_bird.quality`.
  """
  validate(config)
  eb, t = config.early_bird, config.train
  os.makedirs(workdir, exist_ok=True)
  log = search(config, os.path.join(workdir, "search"))
  eb_step, found = log["result"]["eb_step"], log["result"]["found"]
  if not found:
    print(f"early_bird: no ticket within {eb_step} steps; using the mask at step {eb_step}")

  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  key = jax.random.PRNGKey(config.seed)
  shapes = jax.eval_shape(trainer.init, key)
  # The search's optimizers carry the L1 term, so its checkpoints have their own structure.
  search_shapes = jax.eval_shape(build_trainer(search_config(config), dataset.spec).init, key)
  checkpointer = Checkpointer(os.path.join(workdir, "search"), async_save=False)
  try:
    at_eb, _ = checkpointer.restore(search_shapes, step=eb_step)
  finally:
    checkpointer.close()
  at_eb = jax.device_get(at_eb)
  mask = _mask(log, eb_step)
  kept = channels.kept_channels(mask, early_bird.bn_scales(
      {"g": at_eb.g.params, "d": at_eb.d.params}))
  ticket_config = channels.shrunk_config(config, kept, dataset.spec)
  ticket_steps = t.num_steps - eb_step if eb.budget == "rest" else t.num_steps
  ticket_config.train.num_steps = ticket_steps
  g_dense, d_dense = dcgan.channel_counts(config.model, dataset.spec)
  # 'init': the dense run's very initialisation (the loop's eager trainer.init).
  sliced = channels.slice_state(at_eb if eb.init == "found" else trainer.init(key), kept)
  ticket, ticket_seconds = _timed_train(
      ticket_config, os.path.join(workdir, "ticket"),
      init_state=lambda s: channels.load_sliced(s, sliced))

  # GAN trainers sample from whatever nets the state holds, so one quality function
  # (and one set of real-data statistics) serves the dense and the narrow model.
  quality_fn = quality_fn or imp.make_quality(_quality_config(config), trainer, dataset)
  dense_flops = _forward_flops(shapes, config, dataset.spec)
  ticket_flops = _forward_flops(ticket, ticket_config, dataset.spec)
  n_critic = t.n_critic
  dense_step = flops.gan_step_flops(dense_flops["g"], dense_flops["d"], n_critic)
  ticket_step = flops.gan_step_flops(ticket_flops["g"], ticket_flops["d"], n_critic)
  train_dense = t.num_steps * dense_step * t.batch_size
  train_eb = (eb_step * dense_step + ticket_steps * ticket_step) * t.batch_size
  record = {
      "eb_step": eb_step, "found": found, "ratio": eb.ratio, "init": eb.init,
      "ticket_steps": ticket_steps,
      "channel_density": early_bird.channel_density(mask),
      "g_channels": list(ticket_config.model.g_channels),
      "d_channels": list(ticket_config.model.d_channels),
      "g_channels_dense": list(g_dense), "d_channels_dense": list(d_dense),
      "params_dense": _num_params(shapes), "params_ticket": _num_params(ticket),
      "flops_g_dense": dense_flops["g"], "flops_d_dense": dense_flops["d"],
      "flops_g": ticket_flops["g"], "flops_d": ticket_flops["d"],
      "flops_ratio": sum(ticket_flops.values()) / sum(dense_flops.values()),
      "train_flops_dense": train_dense, "train_flops_eb": train_eb,
      "train_flops_ratio": train_eb / train_dense,
      "search_wall_time_s": log["wall_time_s"], "ticket_wall_time_s": ticket_seconds,
      "eb_wall_time_s": log["wall_time_s"] + ticket_seconds,
      "distances": [{"step": int(s), "found": log["found"][s],
                     "distances": log["distances"][s]}
                    for s in sorted(log["masks"], key=int) if int(s) <= eb_step],
      "ticket": {k: float(v) for k, v in quality_fn(ticket).items()},
  }
  if eb.baseline:
    dense, dense_seconds = _timed_train(config, os.path.join(workdir, "dense"))
    record["dense"] = {"wall_time_s": dense_seconds,
                       **{k: float(v) for k, v in quality_fn(dense).items()}}
  _write_json(os.path.join(workdir, "early_bird.json"), record)
  return record

