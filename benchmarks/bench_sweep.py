"""Wall time of 8 ring8 MLP GAN runs as one sweep vs 8 sequential jaxgen and PyTorch runs.

All three train configs/gan_ring8.py (batch 256, width 128, Adam 1e-3/.5) for STEPS
steps with seeds 0..7, timed end to end in this process:
  * sweep: `jaxgen.sweeps.run_sweep(--sweep.seeds=8)`, one compiled program for all
    runs, including per-run logs, checkpoints, sample PNGs and mode coverage;
  * jaxgen: `jaxgen.train.train_and_evaluate` per seed, each paying its own compile
    (logs, checkpoints and a sample PNG, as the CLI; no Python start-up);
  * PyTorch: the eager baseline of benchmarks/bench_torch.py per seed (a fixed random
    real batch, no logging), with the faster of 1 and 2 intra-op threads.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import bench_torch  # noqa: E402
from benchmarks.common import markdown_table  # noqa: E402
from jaxgen import train  # noqa: E402
from jaxgen.sweeps import run_sweep  # noqa: E402
from tests.conftest import load_config  # noqa: E402

RUNS = 8
STEPS = 1000


def ring8_config(steps: int):
  config = load_config("gan_ring8")
  config.train.num_steps = steps
  config.train.log_every = steps // 2
  config.train.sample_every = steps
  config.train.checkpoint_every = steps
  config.train.progress_bar = False
  return config


def sweep_seconds(steps: int, runs: int) -> float:
  with tempfile.TemporaryDirectory(prefix="bench_sweep_") as workdir:
    start = time.perf_counter()
    run_sweep(ring8_config(steps), workdir, seeds=runs)
    return time.perf_counter() - start


def sequential_jaxgen_seconds(steps: int, runs: int) -> float:
  with tempfile.TemporaryDirectory(prefix="bench_seq_") as root:
    start = time.perf_counter()
    for seed in range(runs):
      config = ring8_config(steps)
      config.seed = seed
      train.train_and_evaluate(config, os.path.join(root, str(seed)))
    return time.perf_counter() - start


def sequential_torch_seconds(steps: int, runs: int) -> tuple[float, int]:
  """Seconds for `runs` PyTorch runs of `steps` steps, and the thread count used."""
  torch = bench_torch.torch
  config = ring8_config(steps)
  m = config.model

  def one_run(seed: int, n: int) -> None:
    torch.manual_seed(seed)
    g, d = bench_torch.torch_mlp(m.latent_dim, m.width, m.depth, 2)
    real = torch.randn(config.train.batch_size, 2)
    bench_torch.torch_steps_per_s(g, d, real, m.latent_dim, config.optim.g.lr,
                                  config.optim.g.b1, steps=n, warmup=0,
                                  max_seconds=float("inf"))

  probe = {}
  for threads in (2, 1):  # 1 thread can win for small matmuls or under contention
    torch.set_num_threads(threads)
    start = time.perf_counter()
    one_run(0, 200)
    probe[threads] = time.perf_counter() - start
  threads = min(probe, key=probe.get)
  torch.set_num_threads(threads)
  start = time.perf_counter()
  for seed in range(runs):
    one_run(seed, steps)
  seconds = time.perf_counter() - start
  torch.set_num_threads(2)
  return seconds, threads


def main(steps: int = STEPS, runs: int = RUNS) -> str:
  sweep = sweep_seconds(steps, runs)
  jaxgen_seq = sequential_jaxgen_seconds(steps, runs)
  rows = [[f"jaxgen sweep, {runs} runs in one program", sweep, runs * steps / sweep, 1.0],
          [f"{runs} sequential jaxgen runs (each compiles)", jaxgen_seq,
           runs * steps / jaxgen_seq, jaxgen_seq / sweep]]
  if bench_torch.torch is not None:
    torch_seq, threads = sequential_torch_seconds(steps, runs)
    rows.append([f"{runs} sequential PyTorch eager runs ({threads} thread(s))", torch_seq,
                 runs * steps / torch_seq, torch_seq / sweep])
  else:
    rows.append([f"{runs} sequential PyTorch runs", "skipped (no torch)", "-", "-"])
  table = (f"ring8 MLP GAN (configs/gan_ring8.py), {runs} seeds x {steps} "
           "steps each; wall time includes compilation, logging and checkpoints.\n\n"
           + markdown_table(["approach", f"wall time for {runs} runs (s)",
                             "run-steps/s", "time / sweep time"], rows))
  print(table)
  return table


if __name__ == "__main__":
  main()
