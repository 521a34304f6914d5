"""`make bench`: runs every benchmark and writes the tables to benchmarks/results.md."""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import (bench_conv, bench_early_bird, bench_inception,  # noqa: E402
                        bench_precision, bench_sweep, bench_torch, bench_train)
from benchmarks import bench_nwgan  # noqa: E402
from benchmarks.common import machine  # noqa: E402

SECTIONS = [
    ("Training throughput (benchmarks/bench_train.py)", bench_train.main),
    ("Training steps, jaxgen vs PyTorch eager (benchmarks/bench_torch.py)", bench_torch.main),
    ("Convolutions: XLA vs matmul lowering (benchmarks/bench_conv.py)", bench_conv.main),
    ("FID Inception features, jaxgen vs TorchScript (benchmarks/bench_inception.py)",
     bench_inception.main),
    ("Sweeps: 8 ring8 runs in one program vs sequential runs (benchmarks/bench_sweep.py)",
     bench_sweep.main),
    ("Early-bird channel tickets vs the dense DCGAN (benchmarks/bench_early_bird.py)",
     bench_early_bird.main),
    ("Mixed precision: float32 vs bfloat16 DCGAN steps (benchmarks/bench_precision.py)",
     bench_precision.main),
    ("NW-GAN: K generators as one nn.vmap'd module vs a Python loop (benchmarks/bench_nwgan.py)",
     bench_nwgan.main),
]


def main() -> None:
  parts = [f"# Benchmark results\n\nMachine: {machine()}\n"
           f"Measured: {time.strftime('%Y-%m-%d %H:%M')} by `make bench`.\n"]
  for title, run in SECTIONS:
    print(f"\n## {title}")
    parts.append(f"## {title}\n\n{run()}\n")
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.md")
  with open(path, "w", encoding="utf-8") as f:
    f.write("\n".join(parts))
  print(f"\nwrote {path}")


if __name__ == "__main__":
  main()
