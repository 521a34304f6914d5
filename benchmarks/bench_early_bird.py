"""Training speed of early-bird channel tickets: the narrow DCGAN against the dense one.

The channel counts are those of the measured tickets (early_bird.json of
configs/lottery/early_bird_dcgan_{digits,fashion_mnist}.py, ratio 0.5, early_bird.l1 =
1e-4), so this times the same narrow networks in one run, on equal footing with their
dense baseline.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_train import measure  # noqa: E402
from benchmarks.common import markdown_table  # noqa: E402
from tests.conftest import load_config  # noqa: E402

# (label, config, G's and D's hidden channels of the ticket)
TICKETS = [
    ("DCGAN digits 16x16 width 32", "lottery/early_bird_dcgan_digits", (16, 32), (32, 32)),
    ("DCGAN Fashion-MNIST 32x32 width 64", "lottery/early_bird_dcgan_fashion_mnist",
     (113, 53, 58), (64, 52, 140)),
]


def main() -> str:
  rows = []
  for label, name, g_channels, d_channels in TICKETS:
    dense = load_config(name)
    ticket = dense.copy_and_resolve_references()
    ticket.model.g_channels, ticket.model.d_channels = g_channels, d_channels
    base = measure(dense, 10, 5)
    rows.append([f"{label}, dense (baseline)", base["steps_per_s"], 1.0])
    r = measure(ticket, 10, 5)
    rows.append([f"{label}, EB ticket G {list(g_channels)} D {list(d_channels)}",
                 r["steps_per_s"], r["steps_per_s"] / base["steps_per_s"]])
  table = markdown_table(["run", "train steps/s", "ratio vs dense"], rows)
  print(table)
  return table


if __name__ == "__main__":
  main()
