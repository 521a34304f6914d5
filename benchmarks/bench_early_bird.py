"""Training speed of early-bird channel tickets: the narrow DCGAN against the dense one.

The channel counts are those of the measured tickets (early_bird.json of
configs/lottery/early_bird_dcgan_{digits,fashion_mnist}.py, ratio 0.5, searched with
network slimming's L1, early_bird.l1 = 1e-4). Dense and ticket are compiled in the same
process and their calls alternate, so load from other processes hits both alike.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_torch import step_flops  # noqa: E402
from benchmarks.bench_train import prepare  # noqa: E402
from benchmarks.common import interleaved_medians, markdown_table  # noqa: E402
from tests.conftest import load_config  # noqa: E402

REPEATS = 5

# (label, config, G's and D's hidden channels of the ticket, steps per jitted call)
TICKETS = [
    ("DCGAN digits 16x16 width 32", "lottery/early_bird_dcgan_digits", (16, 32), (32, 32), 20),
    ("DCGAN Fashion-MNIST 32x32 width 64", "lottery/early_bird_dcgan_fashion_mnist",
     (113, 53, 58), (64, 52, 140), 5),
]


def main(repeats: int = REPEATS) -> str:
  rows = []
  for label, name, g_channels, d_channels, steps_per_call in TICKETS:
    configs = {"dense": load_config(name)}
    configs["ticket"] = configs["dense"].copy_and_resolve_references()
    configs["ticket"].model.g_channels, configs["ticket"].model.d_channels = (
        g_channels, d_channels)
    runs = {kind: prepare(config, steps_per_call)[1] for kind, config in configs.items()}
    for run in runs.values():  # warm-up after both compiled
      run()
    seconds = interleaved_medians(runs, repeats)
    flops = {kind: step_flops(config) for kind, config in configs.items()}
    dense_rate = steps_per_call / seconds["dense"]
    for kind in ("dense", "ticket"):
      what = ("dense (baseline)" if kind == "dense" else
              f"EB ticket G {list(g_channels)} D {list(d_channels)}")
      rate = steps_per_call / seconds[kind]
      rows.append([f"{label}, {what}", steps_per_call, flops[kind] / 1e9,
                   f"{100 * flops[kind] / flops['dense']:.0f}%", rate, rate / dense_rate])
  table = (f"Median of {repeats} alternating calls (dense, ticket, dense, ...) after one "
           "warm-up call each; GFLOP/step from XLA's cost analysis of one jitted train step "
           "(matmul conv lowering, as trained).\n\n"
           + markdown_table(["run", "steps/call", "GFLOP/step", "FLOPs vs dense",
                             "train steps/s", "ratio vs dense"], rows))
  print(table)
  return table


if __name__ == "__main__":
  main()
