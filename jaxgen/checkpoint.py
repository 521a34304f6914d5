"""Orbax checkpoints of the train state: periodic async saves, keep the last N, resume.

Orbax writes each step into a temporary directory and renames it when complete, so a
crash or a failed save leaves the previous checkpoints intact.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Mapping
from typing import Any

import jax
import orbax.checkpoint as ocp
from etils import epath

from jaxgen.errors import CheckpointError  # noqa: F401  (re-exported)


class Checkpointer:
  """Saves and restores one run's train state under `<workdir>/checkpoints`."""

  def __init__(self, workdir: str, *, max_to_keep: int = 3, async_save: bool = True):
    self.directory = os.path.join(os.path.abspath(workdir), "checkpoints")
    self._manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, create=True,
            enable_async_checkpointing=async_save))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state: Any) -> None:
    """Starts saving `state` as `step` (in the background when async); no-op if it exists."""
    if step in self._manager.all_steps():
      return
    self._manager.save(step, args=ocp.args.StandardSave(state))

  def restore(self, target: Any, step: int | None = None) -> tuple[Any, int | None]:
    """Restores the latest (or given) step into the structure and shardings of `target`.

    Returns (state, step), or (target, None) when there is no checkpoint yet. When the
    latest checkpoint is unreadable, earlier ones are tried, with a warning naming both;
    the unreadable ones are moved to `checkpoints_unreadable/` so the run can save that
    step again. A given `step` is not replaced by another.
    """
    steps = sorted(self._manager.all_steps(), reverse=True) if step is None else [step]
    if not steps:
      return target, None
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    first_error = None
    for candidate in steps:
      try:
        restored = self._restore_step(candidate, abstract)
      except CheckpointError as e:
        if "does not match" in str(e):
          raise  # an earlier checkpoint of the same run has the same structure
        first_error = first_error or e
        continue
      if candidate != steps[0]:
        bad = [s for s in steps if s > candidate]
        warnings.warn(
            f"checkpoint {self.directory}/{steps[0]} is unreadable ({first_error}); resuming "
            f"from {self.directory}/{candidate} instead", RuntimeWarning, stacklevel=2)
        self._set_aside(bad)
      return restored, candidate
    if len(steps) > 1:
      raise CheckpointError(f"no checkpoint in {self.directory} is readable (steps "
                            f"{', '.join(map(str, steps))}); the latest: {first_error}")
    raise first_error

  def _restore_step(self, step: int, abstract: Any) -> Any:
    try:
      return self._manager.restore(step, args=ocp.args.StandardRestore(abstract))
    except ValueError as e:
      if "do not match" not in str(e) and "shape" not in str(e).lower():
        raise self._unreadable(step, e) from e
      restored = self._restore_without_empty_fields(step, abstract)
      if restored is not None:
        return restored
      raise CheckpointError(
          f"checkpoint {self.directory}/{step} does not match this config (a different "
          "model, optimizer or dataset shape wrote it); use a new --workdir") from e
    except Exception as e:  # Orbax raises many types for truncated or foreign files.
      raise self._unreadable(step, e) from e

  def _restore_without_empty_fields(self, step: int, abstract: Any) -> Any | None:
    """Restores a checkpoint written before an empty state field (e.g. `ada={}`) existed.

    Returns None when the checkpoint differs in more than such empty fields.
    """
    fields = ocp.tree.serialize_tree(abstract, keep_empty_nodes=True)
    if not isinstance(fields, dict):
      return None
    try:
      on_disk = set(ocp.StandardCheckpointHandler().metadata(
          epath.Path(self.directory) / str(step) / "default").keys())
    except Exception:  # no readable tree metadata: nothing to compare against
      return None
    empty = {k: v for k, v in fields.items()
             if isinstance(v, Mapping) and not v and k not in on_disk}
    if not empty:
      return None
    pruned = {k: v for k, v in fields.items() if k not in empty}
    try:
      restored = self._manager.restore(step, args=ocp.args.StandardRestore(pruned))
    except Exception:  # a real mismatch: the caller reports it
      return None
    return ocp.tree.deserialize_tree({**restored, **empty}, abstract, keep_empty_nodes=True)

  def _set_aside(self, steps: list[int]) -> None:
    """Moves unreadable step directories out of the manager's view (process 0 moves)."""
    aside = self.directory + "_unreadable"
    if jax.process_index() == 0:
      os.makedirs(aside, exist_ok=True)
      for step in steps:
        target = os.path.join(aside, str(step))
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(os.path.join(self.directory, str(step)), target)
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils
      multihost_utils.sync_global_devices("jaxgen_checkpoint_set_aside")
    self._manager.reload()

  def _unreadable(self, step: int, e: Exception) -> CheckpointError:
    reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
    return CheckpointError(
        f"checkpoint {self.directory}/{step} is unreadable ({type(e).__name__}: "
        f"{reason}); delete that directory to resume from an earlier step, or use a "
        "new --workdir")

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()


def restore_run(workdir: str, target: Any, step: int | None = None,
                best: bool = False) -> tuple[Any, int]:
  """(state, step) of a finished run's latest or given checkpoint (of `<workdir>/best`).

  `target` is a state of the run's structure (e.g. trainer.init(key)); a missing
  checkpoint or step is a CheckpointError naming the steps there are.
  """
  run_dir = os.path.join(workdir, "best") if best else workdir
  directory = os.path.join(os.path.abspath(run_dir), "checkpoints")  # Checkpointer's
  steps = sorted(int(s) for s in (os.listdir(directory) if os.path.isdir(directory) else [])
                 if s.isdigit())
  if not steps:
    raise CheckpointError(f"no checkpoint in {directory}; train first")
  if step is not None and step not in steps:
    raise CheckpointError(f"no checkpoint for step {step} in {directory}; "
                          f"available: {', '.join(map(str, steps))}")
  checkpointer = Checkpointer(run_dir, async_save=False)
  try:
    return checkpointer.restore(target, step)
  finally:
    checkpointer.close()

