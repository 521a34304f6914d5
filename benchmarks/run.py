"""`make bench`: runs every benchmark and writes the tables to benchmarks/results.md.

`python benchmarks/run.py --only inception,conv` re-measures those sections in place.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import (bench_conv, bench_early_bird, bench_inception,  # noqa: E402
                        bench_precision, bench_sweep, bench_torch, bench_train)
from benchmarks import bench_nwgan  # noqa: E402
from benchmarks import bench_glow  # noqa: E402
from benchmarks import bench_pgd_at  # noqa: E402
from benchmarks import bench_stylegan2  # noqa: E402
from benchmarks.common import load_average, machine  # noqa: E402

SECTIONS = [
    ("Training throughput (benchmarks/bench_train.py)", bench_train.main),
    ("Early-bird channel tickets vs the dense DCGAN (benchmarks/bench_early_bird.py)",
     bench_early_bird.main),
    ("FID Inception features, jaxgen vs TorchScript (benchmarks/bench_inception.py)",
     bench_inception.main),
    ("Sweeps: 8 ring8 runs in one program vs sequential runs (benchmarks/bench_sweep.py)",
     bench_sweep.main),
    ("Mixed precision: float32 vs bfloat16 train steps (benchmarks/bench_precision.py)",
     bench_precision.main),
    ("Training steps, jaxgen vs PyTorch eager (benchmarks/bench_torch.py)", bench_torch.main),
    ("NW-GAN: K generators as one nn.vmap'd module vs a Python loop (benchmarks/bench_nwgan.py)",
     bench_nwgan.main),
    ("Convolutions: XLA vs matmul lowering (benchmarks/bench_conv.py)", bench_conv.main),
    ("StyleGAN2 32x32 training steps, jaxgen vs PyTorch eager (benchmarks/bench_stylegan2.py)",
     bench_stylegan2.main),
    ("PGD-10 adversarial training step, jaxgen vs PyTorch eager (benchmarks/bench_pgd_at.py)",
     bench_pgd_at.main),
    ("Glow training step, jaxgen vs PyTorch eager (benchmarks/bench_glow.py)", bench_glow.main),
]


def run_section(title: str, run) -> str:
  """One section of results.md: machine, load averages around it, its wall time, its text.

  A failing section keeps its traceback on stderr and its error in results.md, so the
  other sections of a long `make bench` still get measured.
  """
  print(f"\n## {title}", flush=True)
  load_start, start = load_average(), time.perf_counter()
  try:
    body = run()
  except Exception as error:  # pylint: disable=broad-except
    traceback.print_exc()
    body = f"**Failed:** `{type(error).__name__}: {error}` (traceback in the `make bench` log)."
  minutes = (time.perf_counter() - start) / 60
  return (f"## {title}\n\n{machine()}; {time.strftime('%Y-%m-%d %H:%M %Z')}. Load average "
          f"(1 / 5 / 15 min) {load_start} at the "
          f"start, {load_average()} at the end; {minutes:.1f} min.\n\n{body}\n")


def replace_sections(path: str, names: list[str]) -> None:
  """Re-measures the sections whose module is named (e.g. `inception`) and swaps them into
  results.md in place (appending a section not there yet); the others keep their text, and
  each section its own date."""
  chosen = [(t, r) for t, r in SECTIONS if any(f"bench_{n}.py" in t for n in names)]
  known = [t.split("bench_")[1].split(".py")[0] for t, _ in SECTIONS]
  if len(chosen) != len(names):
    raise SystemExit(f"--only takes names from: {', '.join(known)}")
  with open(path, encoding="utf-8") as f:
    text = f.read()
  for title, run in chosen:
    start = text.find(f"## {title}\n")
    if start < 0:  # a section new since the last full `make bench`: appended
      text = text.rstrip("\n") + "\n\n" + run_section(title, run)
    else:
      end = text.find("\n## ", start + 1)
      end = len(text) if end < 0 else end + 1
      text = text[:start] + run_section(title, run) + text[end:]
    with open(path, "w", encoding="utf-8") as f:
      f.write(text)
  print(f"\nupdated {path}")


def main() -> None:
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.md")
  if len(sys.argv) > 2 and sys.argv[1] == "--only":
    replace_sections(path, sys.argv[2].split(","))
    return
  head = (f"# Benchmark results\n\nMachine: {machine()}\n"
          f"Measured: {time.strftime('%Y-%m-%d %H:%M %Z')} by `make bench`.\n")
  parts = [head]
  for i, (title, run) in enumerate(SECTIONS):
    parts.append(run_section(title, run))
    # Written after every section, so an interrupted run leaves what it measured.
    todo = "" if i + 1 == len(SECTIONS) else (
        f"\n*Incomplete: {i + 1} of {len(SECTIONS)} sections so far.*\n")
    with open(path, "w", encoding="utf-8") as f:
      f.write("\n".join(parts) + todo)
  print(f"\nwrote {path}")
  if any("**Failed:**" in part for part in parts):
    sys.exit(1)


if __name__ == "__main__":
  main()
