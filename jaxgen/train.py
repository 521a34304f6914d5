"""The training loop: builds data, trainer, mesh and checkpoints from a config and runs.

The loop owns all I/O (logging, sample grids, checkpoints); each call into the device
runs `train.steps_per_call` pure train steps under one `jax.jit` with a `lax.scan`.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from typing import Any, Callable, Iterator

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import tqdm

from jaxgen import config_check, data, evaluate, images, parallel
from jaxgen.checkpoint import Checkpointer
from jaxgen.trainers import Trainer, build_trainer
from jaxgen.writers import MetricWriter, num_grid_samples, truncate_metrics


class TrainingDiverged(RuntimeError):
  """A loss became NaN or Inf; the run stops without saving the bad state."""


class TrainingInterrupted(Exception):
  """SIGTERM/SIGINT stopped training after a checkpoint of `step`; re-running resumes."""

  def __init__(self, step: int, signal_name: str, directory: str):
    self.step, self.signal_name = step, signal_name
    self.exit_code = 128 + int(getattr(signal, signal_name, signal.SIGTERM))
    super().__init__(f"{signal_name} received: stopped at step {step} with a checkpoint in "
                     f"{directory}; re-run the same command to resume from it")


class StopSignals:
  """Turns SIGTERM and SIGINT into a request to stop after the current jitted call.

  One process: a flag set by the handlers. Several processes: JAX's preemption sync
  point (its service catches SIGTERM on any process; SIGINT is forwarded as SIGTERM),
  so every process stops at the same step. A second SIGINT interrupts at once.
  """

  def __init__(self):
    self.received: str | None = None
    self._multi = jax.process_count() > 1
    self._previous: dict[int, Any] = {}
    self._calls = 0

  def _handle(self, signum: int, frame: Any) -> None:
    del frame
    if signum == signal.SIGINT and self.received == "SIGINT":
      raise KeyboardInterrupt
    self.received = signal.Signals(signum).name
    if self._multi:
      os.kill(os.getpid(), signal.SIGTERM)  # JAX's preemption notifier listens for it

  def __enter__(self) -> "StopSignals":
    if threading.current_thread() is threading.main_thread():
      for sig in ((signal.SIGINT,) if self._multi else (signal.SIGINT, signal.SIGTERM)):
        self._previous[sig] = signal.signal(sig, self._handle)
    return self

  def __exit__(self, *exc: Any) -> None:
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)

  def stop_requested(self) -> bool:
    """Called once per jitted call, by every process; True at the step to save."""
    self._calls += 1
    if not self._multi:
      return self.received is not None
    from jax.experimental import multihost_utils
    if multihost_utils.reached_preemption_sync_point(self._calls):
      self.received = self.received or "SIGTERM"
      return True
    return False


def _crossed(before: int, after: int, every: int) -> bool:
  """Whether a multiple of `every` lies in (before, after]."""
  return every > 0 and after // every > before // every


def stacked_batches(dataset: data.Dataset, config: ml_collections.ConfigDict,
                    batches_per_step: int, start_step: int, *, process_index: int = 0,
                    process_count: int = 1) -> Iterator[dict[str, np.ndarray]]:
  """Host batches shaped [steps_per_call, batches_per_step, batch_size, ...].

  Train step s consumes stream batches s*batches_per_step ... so resuming at a step
  continues the exact stream of an uninterrupted run. With several processes each
  gets its rows of every batch (batch_size / process_count of them).
  """
  per_call = config.train.steps_per_call * batches_per_step
  stream = dataset.process_batches(config.train.batch_size, seed=config.seed,
                                   start=start_step * batches_per_step,
                                   process_index=process_index, process_count=process_count)
  while True:
    group = [next(stream) for _ in range(per_call)]
    yield {key: np.stack([b[key] for b in group]).reshape(
        (config.train.steps_per_call, batches_per_step) + group[0][key].shape)
           for key in group[0]}


def write_config(config: ml_collections.ConfigDict, workdir: str) -> None:
  with open(os.path.join(workdir, "config.json"), "w", encoding="utf-8") as f:
    f.write(config.to_json_best_effort(indent=2, sort_keys=True))


class SampleWriter:
  """Writes generated samples for fixed latents: a PNG grid (images) or scatter (points)."""

  def __init__(self, trainer: Trainer, dataset: data.Dataset, config, workdir: str):
    self._enabled = jax.process_index() == 0  # every process samples (a collective call)
    self._sample = jax.jit(trainer.sample)
    n = num_grid_samples(config.train, dataset.spec.kind)
    self._noise = trainer.noise(jax.random.fold_in(jax.random.PRNGKey(config.seed), 1), n)
    self._spec = dataset.spec
    self._reference = (dataset.sample(n, seed=config.seed)["x"]
                       if dataset.spec.kind == "points" else None)
    self._dir = os.path.join(workdir, "samples")
    self._workdir = workdir
    if self._enabled:
      os.makedirs(self._dir, exist_ok=True)

  def __call__(self, state: Any, step: int, writer: MetricWriter) -> None:
    samples = np.asarray(jax.device_get(self._sample(state, self._noise)))
    if not self._enabled:
      return
    path = os.path.join(self._dir, f"step_{step:07d}.png")
    if self._spec.kind == "image":
      scale = max(1, 256 // (self._spec.shape[0] * 8))
      grid = images.save_image_grid(path, samples, scale=scale)
    else:
      grid = images.save_scatter(path, samples, self._reference, title=f"step {step}")
    images.copy_file(path, os.path.join(self._workdir, "samples.png"))
    writer.write_image(step, "samples", grid)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str, *,
                       init_state: Callable[[Any], Any] | None = None,
                       on_step: Callable[[Any, int], bool] | None = None) -> Any:
  """Trains `config` in `workdir`, resuming from its latest checkpoint; returns the state.

  `init_state(state) -> state` edits the freshly initialised state before training
  (e.g. a pruning driver rewinding weights and setting masks); a checkpoint, when one
  exists, still wins, so a resumed run continues where it stopped.
  `on_step(state, step) -> stop` runs after each jitted call (e.g. an early-bird
  search); True ends training there, with a metrics record and a checkpoint at `step`.
  It must copy what it keeps (jax.device_get): the next call donates the state.
  """
  config_check.validate(config)
  is_main = jax.process_index() == 0
  os.makedirs(workdir, exist_ok=True)
  if is_main:
    write_config(config, workdir)

  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  mesh = parallel.make_mesh(config.train.num_devices)
  parallel.check_batch_size(config.train.batch_size, mesh)
  # Built before training: a bad eval field fails now, and real-data statistics are ready.
  # Every process evaluates (sampling is a collective call); only process 0 writes.
  evaluation = evaluate.TrainingEvaluation.create(config, trainer, dataset, workdir)

  checkpointer = Checkpointer(workdir, max_to_keep=config.train.keep_checkpoints,
                              async_save=config.train.async_checkpoints)
  state = trainer.init(jax.random.PRNGKey(config.seed))
  if init_state is not None:
    state = init_state(state)
  state = parallel.replicate(state, mesh)  # restored straight into these shardings
  try:
    state, restored_step = checkpointer.restore(state)
  except Exception:
    checkpointer.close()
    raise
  start_step = int(restored_step or 0)
  if is_main and restored_step is not None:
    truncate_metrics(workdir, start_step)

  k = config.train.steps_per_call
  state_sharding = parallel.replicated(mesh)

  def multi_step(state, batch):
    state, metrics = jax.lax.scan(trainer.train_step, state, batch)
    return state, jax.tree.map(jnp.mean, metrics)

  step_fn = jax.jit(multi_step, out_shardings=(state_sharding, state_sharding),
                    donate_argnums=0)
  batches = stacked_batches(dataset, config, trainer.batches_per_step, start_step,
                            process_index=jax.process_index(),
                            process_count=jax.process_count())
  writer = MetricWriter(workdir, enabled=is_main)
  samples = (SampleWriter(trainer, dataset, config, workdir)
             if num_grid_samples(config.train, dataset.spec.kind) else None)
  t = config.train
  bar = tqdm.tqdm(total=t.num_steps, initial=start_step, disable=not is_main
                  or not t.progress_bar, dynamic_ncols=True, unit="step")
  step = start_step
  start_time = last_time = time.time()
  last_log_step = start_step
  try:
    with StopSignals() as signals:
      while step < t.num_steps:
        batch = parallel.shard_batch(next(batches), mesh, batch_axis=2)
        state, metrics = step_fn(state, batch)
        metrics = jax.device_get(metrics)
        prev, step = step, step + k
        bad = [name for name, v in metrics.items() if not math.isfinite(float(v))]
        if bad:
          kept = (f"the last good checkpoint (step {checkpointer.latest_step()}) is kept in "
                  f"{checkpointer.directory}" if checkpointer.latest_step() is not None
                  else "no checkpoint was saved yet")
          raise TrainingDiverged(
              f"training diverged at step {step}: {', '.join(f'{n}={metrics[n]}' for n in bad)}"
              f"; {kept}")
        bar.update(k)
        # At the last step the run simply finishes (final samples and evaluation).
        interrupted = signals.stop_requested() and step < t.num_steps
        stop = interrupted or (on_step is not None and bool(on_step(state, step)))
        if _crossed(prev, step, t.log_every) or step == t.num_steps or stop:
          now = time.time()
          scalars = {name: float(v) for name, v in metrics.items()}
          scalars["steps_per_s"] = (step - last_log_step) / max(now - last_time, 1e-9)
          scalars["examples_per_s"] = scalars["steps_per_s"] * t.batch_size
          scalars["elapsed_s"] = now - start_time
          scalars["wall_time"] = now
          writer.write_scalars(step, scalars)
          bar.set_postfix({n: f"{scalars[n]:.3f}" for n in sorted(metrics)[:4]})
          last_time, last_log_step = now, step
        if interrupted:
          checkpointer.save(step, state)
          raise TrainingInterrupted(step, signals.received, checkpointer.directory)
        if samples and (_crossed(prev, step, t.sample_every) or step == t.num_steps):
          samples(state, step, writer)
        if _crossed(prev, step, t.checkpoint_every) or step == t.num_steps or stop:
          checkpointer.save(step, state)
        if evaluation and evaluation.due(prev, step, t.num_steps):
          eval_start = time.time()
          evaluation(state, step, writer)
          last_time += time.time() - eval_start  # steps_per_s stays a training rate
        if stop:
          break
  finally:
    bar.close()
    writer.close()
    checkpointer.close()
    if evaluation:
      evaluation.close()
  return state
