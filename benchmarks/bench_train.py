"""Training throughput of the default DCGAN and the ring8 MLP GAN, and time to first call.

Measures the jitted train step alone (no logging or checkpoints). Baselines measured in
the same run: XLA's native convolutions for the DCGAN, and one train step per jitted
call for the MLP GAN (the configs scan several steps per call to remove host overhead).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import block, markdown_table, timed  # noqa: E402
from jaxgen import data, parallel, train  # noqa: E402
from jaxgen.trainers import build_trainer  # noqa: E402
from tests.conftest import load_config  # noqa: E402


def prepare(config, steps_per_call: int) -> tuple[float, Callable[[], None]]:
  """Builds and compiles `config`'s jitted scan of `steps_per_call` train steps.

  Returns seconds to the first finished call (trace + compile + run) and a blocking
  call of `steps_per_call` more steps on one fixed batch.
  """
  config = config.copy_and_resolve_references()
  config.train.steps_per_call = steps_per_call
  start = time.perf_counter()
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  mesh = parallel.make_mesh()
  state = parallel.replicate(trainer.init(jax.random.PRNGKey(0)), mesh)

  def multi_step(state, batch):
    state, metrics = jax.lax.scan(trainer.train_step, state, batch)
    return state, jax.tree.map(jnp.mean, metrics)

  step_fn = jax.jit(multi_step, donate_argnums=0)
  batches = train.stacked_batches(dataset, config, trainer.batches_per_step, 0)
  batch = parallel.shard_batch(next(batches), mesh, batch_axis=2)
  state, _ = block(step_fn(state, batch))
  first = time.perf_counter() - start
  holder = [state]

  def run():
    holder[0], metrics = step_fn(holder[0], batch)
    block(metrics)

  return first, run


def measure(config, steps_per_call: int, calls: int) -> dict[str, float]:
  """Seconds to the first finished step, then steady steps/s (median of `calls` calls)."""
  first, run = prepare(config, steps_per_call)
  per_call = timed(run, repeats=calls, warmup=0)  # prepare's call was the warm-up
  steps_per_s = steps_per_call / per_call
  return dict(first_step_s=first, steps_per_s=steps_per_s,
              examples_per_s=steps_per_s * config.train.batch_size)


def main() -> str:
  rows = []
  dcgan = load_config("default")
  ring8 = load_config("gan_ring8")
  dcgan32 = load_config("default")  # the DCGAN-32 of the speed issue: width 64, batch 64
  dcgan32.dataset.image_size = 32
  dcgan32.model.latent_dim = 100
  # (label, config, conv_impl, steps per call, timed calls); the first of a group is its
  # baseline. XLA's convs take ~0.5 s (16x16) and ~5 s (32x32) per step on this CPU, so
  # their baselines run few steps per call (a call's overhead is negligible next to that).
  groups = [
      [("default DCGAN, XLA convs, 2 steps/call (baseline)", dcgan, "xla", 2, 3),
       ("default DCGAN, matmul convs, 1 step/call", dcgan, "matmul", 1, 30),
       ("default DCGAN, matmul convs, 10 steps/call", dcgan, "matmul", 10, 5)],
      [("DCGAN 32x32, XLA convs, 1 step/call (baseline)", dcgan32, "xla", 1, 3),
       ("DCGAN 32x32, matmul convs, 10 steps/call", dcgan32, "matmul", 10, 3)],
      [("ring8 MLP GAN, 1 step/call (baseline)", ring8, "auto", 1, 300),
       ("ring8 MLP GAN, 100 steps/call", ring8, "auto", 100, 5)],
  ]
  for group in groups:
    base = None
    for label, config, impl, k, calls in group:
      config = config.copy_and_resolve_references()
      config.model.conv_impl = impl
      r = measure(config, k, calls)
      base = base or r
      rows.append([label, r["first_step_s"], r["steps_per_s"], r["examples_per_s"],
                   r["steps_per_s"] / base["steps_per_s"]])
  table = ("Time to first call: dataset, init, trace, compile and the first call's steps; "
           "steps/s: median of the timed calls after it.\n\n"
           + markdown_table(["run", "time to first call (s)", "steps/s", "examples/s",
                             "ratio vs baseline"], rows))
  print(table)
  return table


if __name__ == "__main__":
  main()
