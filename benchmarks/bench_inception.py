"""FID Inception feature-extraction throughput at 299x299: Flax (jitted) vs the PyTorch reference.

Both networks carry the same random weights (the PyTorch copy in tests/torch_fid_inception.py,
converted by `convert_inception`) and use every core: XLA's CPU thread pool by default,
torch via `set_num_threads(os.cpu_count())`. The two are timed alternately, so load from
other processes hits both alike, and the medians are reported.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import markdown_table  # noqa: E402
from jaxgen.metrics import convert_inception  # noqa: E402
from jaxgen.metrics import inception  # noqa: E402

BATCH = 16
REPEATS = 5


def _median_seconds(fns: dict, repeats: int) -> dict[str, float]:
  """Median wall time of each blocking callable, calling them in turn `repeats` times."""
  times = {name: [] for name in fns}
  for _ in range(repeats):
    for name, fn in fns.items():
      start = time.perf_counter()
      fn()
      times[name].append(time.perf_counter() - start)
  return {name: statistics.median(t) for name, t in times.items()}


def main(batch: int = BATCH, repeats: int = REPEATS) -> str:
  """Runs the benchmark; returns (and prints) a markdown table."""
  try:
    import torch  # pylint: disable=g-import-not-at-top
    from tests import torch_fid_inception  # pylint: disable=g-import-not-at-top
  except ImportError:
    torch = None

  images = np.random.default_rng(0).uniform(-1, 1, (batch, 299, 299, 3)).astype(np.float32)
  if torch is not None:
    torch.set_num_threads(os.cpu_count())
    torch_model = torch_fid_inception.random_fid_inception(seed=0)
    state_dict = {k: v.numpy() for k, v in torch_model.state_dict().items()}
    flat = convert_inception.convert_state_dict(state_dict)
    variables = jax.tree.map(jnp.asarray, traverse_util.unflatten_dict(flat, sep="/"))
  else:
    variables = inception.FIDInceptionV3().init(jax.random.PRNGKey(0), images[:1])

  model = inception.FIDInceptionV3()
  forward = jax.jit(lambda v, x: model.apply(v, x)["pool3"])
  x_jax = jnp.asarray(images)
  start = time.perf_counter()
  jax.block_until_ready(forward(variables, x_jax))
  first_call = time.perf_counter() - start
  fns = {"flax": lambda: jax.block_until_ready(forward(variables, x_jax))}

  if torch is not None:
    x_torch = torch.from_numpy((images + 1) / 2).permute(0, 3, 1, 2).contiguous()

    def torch_forward():
      with torch.no_grad():
        return torch_model(x_torch)[0]

    torch_forward()  # Warm-up.
    fns["torch"] = torch_forward

  load = os.getloadavg()[0]
  seconds = _median_seconds(fns, repeats)
  threads = f"XLA CPU pool, {os.cpu_count()} cores"
  rows = [[f"Flax `FIDInceptionV3` (jit, {threads})", batch, batch / seconds["flax"],
           seconds["flax"] * 1e3, f"{first_call:.1f} s compile + run"]]
  if torch is not None:
    rows.append([f"PyTorch {torch.__version__} reference (eval, no_grad, "
                 f"{torch.get_num_threads()} threads)", batch, batch / seconds["torch"],
                 seconds["torch"] * 1e3, "eager"])
  table = markdown_table(
      ["network (299x299 -> pool3)", "batch", "images/s", "ms/batch", "first call"], rows)
  if torch is not None:
    table += (f"\n\nFlax / PyTorch throughput: {seconds['torch'] / seconds['flax']:.2f}x "
              f"(median of {repeats} alternating repeats; 1-min load average {load:.1f} on "
              f"{os.cpu_count()} cores at the start: torch's OpenMP threads slow down far "
              "more than XLA's when other processes share the cores).")
  else:
    table += "\n\nPyTorch baseline skipped: torch is not installed."
  print(table)
  return table


if __name__ == "__main__":
  main()
