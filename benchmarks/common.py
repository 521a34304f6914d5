"""Timing helpers shared by the benchmarks: median wall time of jitted calls."""

from __future__ import annotations

import os
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


def interleaved_medians(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
  """Median seconds per call of each blocking fn, calling them in turn so load hits all alike."""
  times = {name: [] for name in fns}
  for _ in range(repeats):
    for name, fn in fns.items():
      start = time.perf_counter()
      fn()
      times[name].append(time.perf_counter() - start)
  return {name: statistics.median(t) for name, t in times.items()}


def load_average() -> str:
  """The 1-, 5- and 15-minute load averages (the machine is shared: read ratios, not rates)."""
  return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def machine() -> str:
  return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"jax {jax.__version__} ({jax.default_backend()}), Python {platform.python_version()}")


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
  def fmt(v):
    return f"{v:.3g}" if isinstance(v, float) else str(v)
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
  return "\n".join(lines)
