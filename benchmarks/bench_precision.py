"""DCGAN train-step time with float32 vs bfloat16 activations (train.compute_dtype).

On this CPU bfloat16 is not native, so it shows what the conversion costs here; the
speed-up it exists for is on TPUs and GPUs with bfloat16 matrix units.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_train import measure  # noqa: E402
from benchmarks.common import markdown_table  # noqa: E402
from tests.conftest import load_config  # noqa: E402


def main() -> str:
  rows = []
  for size in (16, 32):
    base = None
    for dtype in ("float32", "bfloat16"):
      config = load_config("default")
      config.dataset.image_size = size
      config.train.compute_dtype = dtype
      r = measure(config, steps_per_call=10, calls=3)
      base = base or r
      rows.append([f"default DCGAN {size}x{size}, {dtype}", r["first_step_s"],
                   r["steps_per_s"], r["steps_per_s"] / base["steps_per_s"]])
  table = markdown_table(["run", "time to first step (s)", "steps/s",
                          "ratio vs float32"], rows)
  print(table)
  return table


if __name__ == "__main__":
  main()
