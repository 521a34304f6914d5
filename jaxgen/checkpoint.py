"""Orbax checkpoints of the train state: periodic async saves, keep the last N, resume.

Orbax writes each step into a temporary directory and renames it when complete, so a
crash or a failed save leaves the previous checkpoints intact.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import orbax.checkpoint as ocp


class CheckpointError(RuntimeError):
  """A checkpoint exists but cannot be read into the expected state."""


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
    """Restores the latest (or given) step into the structure of `target`.

    Returns (state, step), or (target, None) when there is no checkpoint yet.
    """
    step = self.latest_step() if step is None else step
    if step is None:
      return target, None
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    try:
      restored = self._manager.restore(step, args=ocp.args.StandardRestore(abstract))
    except ValueError as e:
      if "do not match" not in str(e) and "shape" not in str(e).lower():
        raise self._unreadable(step, e) from e
      raise CheckpointError(
          f"checkpoint {self.directory}/{step} does not match this config (a different "
          "model, optimizer or dataset shape wrote it); use a new --workdir") from e
    except Exception as e:  # Orbax raises many types for truncated or foreign files.
      raise self._unreadable(step, e) from e
    return restored, step

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
