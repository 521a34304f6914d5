"""DCGAN and SNGAN train-step time with float32 vs bfloat16 activations (train.compute_dtype).

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


def dcgan(size: int):
  config = load_config("default")
  config.dataset.image_size = size
  return config


def sngan(width: int = 32):
  """configs/sngan_cifar10.py (hinge, 5 D steps per G step, batch 64) at `width` on
  digits 32x32, which needs no download (the paper's widths, 256/128, are for accelerators)."""
  config = load_config("sngan_cifar10")
  config.dataset.name = "digits"
  config.model.width = config.model.d_width = width
  return config


def main() -> str:
  # (label, config, G steps per jitted call, timed calls)
  runs = [("default DCGAN 16x16", dcgan(16), 10, 3),
          ("default DCGAN 32x32", dcgan(32), 10, 3),
          ("SNGAN 32x32 width 32, n_critic 5", sngan(32), 2, 3)]
  rows = []
  for label, config, steps_per_call, calls in runs:
    base = None
    for dtype in ("float32", "bfloat16"):
      config.train.compute_dtype = dtype
      r = measure(config, steps_per_call=steps_per_call, calls=calls)
      base = base or r
      rows.append([f"{label}, {dtype}", r["first_step_s"], r["steps_per_s"],
                   r["steps_per_s"] / base["steps_per_s"]])
  table = markdown_table(["run (steps = G steps)", "time to first call (s)", "steps/s",
                          "ratio vs float32"], rows)
  print(table)
  return table


if __name__ == "__main__":
  main()
