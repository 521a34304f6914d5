"""The sweep loop: trains each group's stacked runs, logs per run, checkpoints, reports.

Outputs under the workdir: `sweep.json` (the grid), `run_<i>/config.json`,
`run_<i>/metrics.jsonl` and `run_<i>/samples.png` per run, `group_<j>/checkpoints/`
(Orbax, the stacked states of group j), `summary.csv` and `sweep.png`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from typing import Any, Iterator, Mapping, Sequence

import jax
import ml_collections
import numpy as np
import tqdm
from absl import logging

from jaxgen import config_check, train
from jaxgen.checkpoint import Checkpointer
from jaxgen.errors import ConfigError
from jaxgen.sweeps import report
from jaxgen.sweeps.grid import Grid, Group, Run, make_grid, run_config
from jaxgen.sweeps.program import build_program, choose_mesh, untraceable_fields
from jaxgen.writers import MetricWriter, truncate_metrics


@dataclasses.dataclass
class SweepResult:
  grid: Grid
  states: list[tuple]      # per group: per branch, the states stacked over its runs
  rows: list[dict[str, Any]]  # summary.csv, one row per run

  def run_state(self, index: int) -> Any:
    """The final train state of run `index`, unstacked."""
    for group, group_states in zip(self.grid.groups, self.states):
      for branch, stacked in zip(group.branches, group_states):
        for pos, run in enumerate(branch.runs):
          if run.index == index:
            return jax.tree.map(lambda x, pos=pos: x[pos], stacked)
    raise IndexError(f"no run {index} in this sweep")


def _crossed(before: int, after: int, every: int) -> bool:
  """Whether a multiple of `every` lies in (before, after]."""
  return every > 0 and after // every > before // every


def run_dir(workdir: str, run: Run) -> str:
  return os.path.join(workdir, f"run_{run.index}")


def _check_grid(grid: Grid, workdir: str) -> None:
  """Writes sweep.json, or checks that a resumed workdir holds the same grid."""
  path = os.path.join(workdir, "sweep.json")
  described = json.loads(json.dumps(grid.describe()))
  if os.path.exists(path):
    with open(path, encoding="utf-8") as f:
      if json.load(f)["grid"] != described:
        raise ConfigError(f"{workdir} holds another sweep (its sweep.json has other fields, "
                          "values or seeds); use a new --workdir")
  runs = [{"run": r.index, "seed": r.seed, **r.values,
           "group": next(g.index for g in grid.groups if r in g.runs)} for r in grid.runs]
  with open(path, "w", encoding="utf-8") as f:
    json.dump({"grid": described, "runs": runs}, f, indent=2)


def _abstract_batch(grid: Grid, group: Group) -> dict[str, jax.ShapeDtypeStruct]:
  branch = group.branches[0]
  t = branch.config.train
  example = next(branch.dataset.batches(t.batch_size, seed=grid.seeds[0]))
  lead = (t.steps_per_call, branch.trainer.batches_per_step)
  return {k: jax.ShapeDtypeStruct(lead + v.shape, v.dtype) for k, v in example.items()}


def _batches(group: Group, start_step: int) -> Iterator[tuple]:
  """Per branch, host batches [runs, steps_per_call, batches_per_step, B, ...].

  Run r reads the stream a lone run with its seed reads; runs sharing a stream
  (same dataset, batch size and seed) share its batches.
  """
  streams: dict[tuple, Iterator] = {}
  keys = []
  for branch in group.branches:
    bps = branch.trainer.batches_per_step
    branch_keys = []
    for run in branch.runs:
      key = (id(branch.dataset), branch.config.train.batch_size, bps, run.seed)
      if key not in streams:
        streams[key] = train.stacked_batches(branch.dataset, run_config(branch, run), bps,
                                             start_step)
      branch_keys.append(key)
    keys.append(branch_keys)
  while True:
    current = {key: next(stream) for key, stream in streams.items()}
    yield tuple({name: np.stack([current[k][name] for k in branch_keys])
                 for name in current[branch_keys[0]]} for branch_keys in keys)


def _train_group(group: Group, workdir: str) -> tuple:
  """Trains (or resumes) one group's runs to `train.num_steps`; returns its states."""
  t = group.branches[0].config.train
  mesh = choose_mesh([len(b.runs) for b in group.branches], t.batch_size,
                     t.num_devices)
  program = build_program(group, mesh)
  put = lambda x: jax.device_put(x, program.run_sharding)  # noqa: E731
  hparams = tuple({f: put(np.asarray([r.values[f] for r in b.runs], np.float32))
                   for f in b.traced} for b in group.branches)
  states = program.init()
  checkpointer = Checkpointer(os.path.join(workdir, f"group_{group.index}"),
                              max_to_keep=t.keep_checkpoints,
                              async_save=t.async_checkpoints)
  try:
    states, restored = checkpointer.restore(states)
  except Exception:
    checkpointer.close()
    raise
  states = program.host_states(put(states))
  step = int(restored or 0)
  if restored is not None:
    for run in group.runs:
      truncate_metrics(run_dir(workdir, run), step)
  writers = {run.index: MetricWriter(run_dir(workdir, run)) for run in group.runs}
  batches = _batches(group, step)
  bar = tqdm.tqdm(total=t.num_steps, initial=step, disable=not t.progress_bar,
                  dynamic_ncols=True, unit="step", desc=f"group {group.index}")
  diverged: set[int] = set()
  start_time = last_time = time.time()
  last_log_step = step
  try:
    while step < t.num_steps:
      batch = tuple(jax.device_put(b, program.batch_sharding) for b in next(batches))
      states, metrics = program.step(states, batch, hparams)
      metrics = jax.device_get(metrics)
      prev, step = step, step + t.steps_per_call
      bar.update(t.steps_per_call)
      per_run = {run.index: {n: float(v[pos]) for n, v in metrics[b_i].items()}
                 for b_i, b in enumerate(group.branches) for pos, run in enumerate(b.runs)}
      for index, values in per_run.items():
        bad = [n for n, v in values.items() if not math.isfinite(v)]
        if bad and index not in diverged:
          diverged.add(index)
          tqdm.tqdm.write(f"jaxgen.sweep: run {index} diverged at step {step} "
                          f"({', '.join(f'{n}={values[n]}' for n in bad)}); the other "
                          "runs continue", file=sys.stderr)
      if _crossed(prev, step, t.log_every) or step == t.num_steps:
        now = time.time()
        steps_per_s = (step - last_log_step) / max(now - last_time, 1e-9)
        timing = {"steps_per_s": steps_per_s, "examples_per_s": steps_per_s * t.batch_size,
                  "elapsed_s": now - start_time, "wall_time": now}
        for index, values in per_run.items():
          writers[index].write_scalars(step, {**values, **timing})
        last_time, last_log_step = now, step
      if _crossed(prev, step, t.checkpoint_every) or step == t.num_steps:
        checkpointer.save(step, states)
  finally:
    bar.close()
    for writer in writers.values():
      writer.close()
    checkpointer.close()
  return states


def run_sweep(config: ml_collections.ConfigDict, workdir: str,
              fields: Mapping[str, Sequence[Any]] | None = None,
              seeds: int | Sequence[int] | None = None,
              plot_metrics: Sequence[str] | None = None) -> SweepResult:
  """Trains every run of `fields` x `seeds` in `workdir` (resuming); returns the result.

  `seeds` is a count (config.seed, config.seed + 1, ...) or a list; a 'seed' entry in
  `fields` lists seeds too. `plot_metrics` are the summary columns drawn in sweep.png.
  """
  config_check.validate(config)
  fields = fields or {}
  grid = make_grid(config, fields, seeds)
  python_fields = {f for g in grid.groups for b in g.branches
                   for f in untraceable_fields(b, _abstract_batch(grid, g))}
  if python_fields:
    logging.warning("the trainer uses %s as Python values: one compiled branch per value",
                    ", ".join(sorted(python_fields)))
    grid = make_grid(config, fields, seeds, python_fields)
  os.makedirs(workdir, exist_ok=True)
  _check_grid(grid, workdir)
  for group in grid.groups:
    for branch in group.branches:
      for run in branch.runs:
        os.makedirs(run_dir(workdir, run), exist_ok=True)
        train.write_config(run_config(branch, run), run_dir(workdir, run))
  states, evaluations = [], {}
  for group in grid.groups:
    group_states = _train_group(group, workdir)
    states.append(group_states)
    for branch, stacked in zip(group.branches, group_states):
      report.write_samples(branch, stacked, [run_dir(workdir, r) for r in branch.runs])
      evaluations.update(zip((r.index for r in branch.runs), report.evaluate(branch, stacked)))
  rows = report.summary_rows(grid, evaluations,
                             {r.index: run_dir(workdir, r) for r in grid.runs})
  report.write_csv(rows, os.path.join(workdir, "summary.csv"))
  metrics = list(plot_metrics or report.default_metrics(rows))
  report.plot(rows, list(grid.fields), metrics, os.path.join(workdir, "sweep.png"),
              title=os.path.basename(os.path.normpath(workdir)))
  return SweepResult(grid, states, rows)
