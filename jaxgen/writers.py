"""Metric writers: one JSON object per logged step in `metrics.jsonl`, plus TensorBoard."""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

import numpy as np


def _plain(value: Any) -> Any:
  value = np.asarray(value)
  return value.item() if value.ndim == 0 else value.tolist()


class MetricWriter:
  """Appends metrics to `<workdir>/metrics.jsonl` and TensorBoard events in `<workdir>`.

  Only process 0 writes, so the same loop runs unchanged on every host of a pod.
  """

  def __init__(self, workdir: str, enabled: bool = True):
    self.enabled = enabled
    self._jsonl = None
    self._tb = None
    if enabled:
      from tensorboardX import SummaryWriter
      os.makedirs(workdir, exist_ok=True)
      self._jsonl = open(os.path.join(workdir, "metrics.jsonl"), "a", encoding="utf-8")
      self._tb = SummaryWriter(logdir=workdir, flush_secs=30)

  def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
    if not self.enabled:
      return
    record = {"step": int(step), **{k: _plain(v) for k, v in scalars.items()}}
    self._jsonl.write(json.dumps(record) + "\n")
    self._jsonl.flush()
    for name, value in record.items():
      if name != "step" and isinstance(value, (int, float)):
        self._tb.add_scalar(name, value, step)

  def write_image(self, step: int, name: str, image: np.ndarray) -> None:
    """Logs one uint8 image [H, W, C] to TensorBoard."""
    if self.enabled:
      self._tb.add_image(name, image, step, dataformats="HWC")

  def close(self) -> None:
    if self.enabled:
      self._jsonl.close()
      self._tb.close()


def read_metrics(workdir: str) -> list[dict[str, Any]]:
  """All records of a run's `metrics.jsonl`, in order."""
  path = os.path.join(workdir, "metrics.jsonl")
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]


def truncate_metrics(workdir: str, last_step: int) -> None:
  """Drops records logged after the checkpoint a run resumes from (they will be redone)."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return
  with open(path, encoding="utf-8") as f:
    lines = [l for l in f if l.strip() and json.loads(l)["step"] <= last_step]
  with open(path, "w", encoding="utf-8") as f:
    f.writelines(lines)


def num_grid_samples(train_config: Any, kind: str) -> int:
  """`train.num_grid_samples`, where -1 means 64 for images and 2000 for 2-D points."""
  n = train_config.num_grid_samples
  return n if n >= 0 else (64 if kind == "image" else 2000)
