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


def interleaved_medians(fns: dict[str, Callable[[], Any]], repeats: int,
                        settle: int = 0) -> dict[str, float]:
  """Median seconds per call of each blocking fn, calling them in turn so load hits all alike.

  `settle` untimed calls of a fn precede each timed one, so that it is timed in steady
  state rather than right after another runtime's call (see bench_inception).
  """
  times = {name: [] for name in fns}
  for _ in range(repeats):
    for name, fn in fns.items():
      for _ in range(settle):
        fn()
      start = time.perf_counter()
      fn()
      times[name].append(time.perf_counter() - start)
  return {name: statistics.median(t) for name, t in times.items()}


def eager_steps_per_s(step: Callable[[], Any], steps: int, max_seconds: float,
                      warmup: int = 2) -> float:
  """1 / median seconds of `step()` (an eager, synchronous step, e.g. PyTorch's) after
  `warmup` calls: `steps` timed calls, fewer (at least 3) past `max_seconds`."""
  for _ in range(warmup):
    step()
  times, start = [], time.perf_counter()
  while len(times) < steps and (len(times) < 3 or time.perf_counter() - start < max_seconds):
    t = time.perf_counter()
    step()
    times.append(time.perf_counter() - t)
  return 1.0 / statistics.median(times)


def torch_adam_steps_per_s(make_model: Callable[[], Any], loss_of: Callable[[Any], Any],
                           threads: int, steps: int, max_seconds: float,
                           lr: float = 1e-3) -> float:
  """Steps/s (eager_steps_per_s) of an Adam step on `loss_of(model)` in PyTorch at
  `threads` threads, the model built by `make_model()` after seeding torch with 0."""
  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(threads)
  torch.manual_seed(0)
  model = make_model()
  opt = torch.optim.Adam(model.parameters(), lr=lr)

  def step():
    loss = loss_of(model)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()

  return eager_steps_per_s(step, steps, max_seconds)


VERSUS_TORCH_HEADER = ["jaxgen steps/s", "PyTorch steps/s (2 threads)",
                       "PyTorch steps/s (1 thread)", "ratio jaxgen/best PyTorch"]


def versus_torch_row(label: str, jax_rate: float,
                     torch_rate: Callable[[int], float] | None) -> list[Any]:
  """[label, jaxgen steps/s, PyTorch's at 2 and 1 threads, jaxgen / the faster PyTorch];
  `torch_rate(threads)` measures PyTorch (None: torch is not installed)."""
  if torch_rate is None:
    return [label, jax_rate, "skipped (no torch)", "-", "-"]
  rates = {threads: torch_rate(threads) for threads in (2, 1)}
  import torch  # pylint: disable=g-import-not-at-top
  torch.set_num_threads(2)  # leave the default of this machine for the next benchmark
  return [label, jax_rate, rates[2], rates[1], jax_rate / max(rates.values())]


def versus_torch_table(first_column: str, note: str,
                       cases: list[tuple[str, Callable[[], float],
                                         Callable[[int], float] | None]]) -> str:
  """Prints and returns `note` + a table of `versus_torch_row`s, one per (label,
  jaxgen_rate(), torch_rate(threads) or None) case."""
  rows = [versus_torch_row(label, jax_rate(), torch_rate)
          for label, jax_rate, torch_rate in cases]
  table = note + markdown_table([first_column] + VERSUS_TORCH_HEADER, rows)
  print(table)
  return table


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
