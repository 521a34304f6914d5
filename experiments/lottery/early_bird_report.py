"""Tabulates early-bird runs: FLOPs, wall time and quality of the ticket against dense.

    python experiments/lottery/early_bird_report.py runs/lottery/early_bird/*/

Each argument is the workdir of `python -m jaxgen.main --config
configs/lottery/early_bird_*.py` (with early_bird.baseline, so the dense model trained
too). Wall time is each phase's whole run (set-up, compile, training, checkpoints);
training loops, the time from the first step to the last (compile included).
"""

from __future__ import annotations

import json
import os
import sys


def loop_seconds(workdir: str) -> float:
  """Seconds inside the training loop (compile included; set-up and evaluation excluded)."""
  with open(os.path.join(workdir, "metrics.jsonl"), encoding="utf-8") as f:
    return [r["elapsed_s"] for r in map(json.loads, f) if "elapsed_s" in r][-1]


def row(workdir: str) -> list[str]:
  with open(os.path.join(workdir, "early_bird.json"), encoding="utf-8") as f:
    r = json.load(f)
  metric = next(iter(r["ticket"]))
  dense_time = r["dense"]["wall_time_s"]
  loops = [loop_seconds(os.path.join(workdir, d)) for d in ("search", "ticket", "dense")]
  return [
      os.path.basename(os.path.normpath(workdir)),
      str(r["eb_step"]) + ("" if r["found"] else " (not found)"),
      f"G {r['g_channels_dense']}->{r['g_channels']}, D {r['d_channels_dense']}->"
      f"{r['d_channels']}",
      f"{100 * r['params_ticket'] / r['params_dense']:.0f}%",
      f"{100 * r['flops_ratio']:.0f}%",
      f"{100 * r['train_flops_ratio']:.0f}%",
      f"{r['search_wall_time_s']:.0f} + {r['ticket_wall_time_s']:.0f} = "
      f"{r['eb_wall_time_s']:.0f} s vs {dense_time:.0f} s "
      f"({100 * r['eb_wall_time_s'] / dense_time:.0f}%)",
      f"{loops[0]:.0f} + {loops[1]:.0f} = {loops[0] + loops[1]:.0f} s vs {loops[2]:.0f} s "
      f"({100 * (loops[0] + loops[1]) / loops[2]:.0f}%)",
      f"{r['ticket'][metric]:.2f} vs {r['dense'][metric]:.2f} ({metric})",
  ]


def main(workdirs: list[str]) -> None:
  header = ["run", "EB step", "channels kept", "params", "forward FLOPs", "training FLOPs",
"wall time: search + ticket vs dense",
            "training loops: search + ticket vs dense",
            "quality: ticket vs dense"]
  lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
  lines += ["| " + " | ".join(row(w)) + " |" for w in workdirs]
  print("\n".join(lines))


if __name__ == "__main__":
  if len(sys.argv) < 2:
    raise SystemExit(__doc__)
  main(sys.argv[1:])
