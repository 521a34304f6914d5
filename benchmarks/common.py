"""Timing helpers shared by the benchmarks: median wall time of jitted calls."""

from __future__ import annotations

import platform
import statistics
import time
from typing import Any, Callable

import jax


def block(tree: Any) -> Any:
  return jax.block_until_ready(tree)


def timed(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> float:
  """Median seconds per call of `fn` (which must block on its result)."""
  for _ in range(warmup):
    fn()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def machine() -> str:
  import os
  return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"jax {jax.__version__} ({jax.default_backend()}), Python {platform.python_version()}")


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
  def fmt(v):
    return f"{v:.3g}" if isinstance(v, float) else str(v)
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
  return "\n".join(lines)
