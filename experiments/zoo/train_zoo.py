"""Trains the model zoo's configs briefly on CPU and tabulates FID-<dataset> per config.

    python experiments/zoo/train_zoo.py --workdir runs/zoo [--only sngan,biggan]

Each entry runs `python -m jaxgen.main --config configs/<name>.py` with the overrides
below (fewer steps than the configs' accelerator settings; the CIFAR-10 ResNets are
trained at width 32 on Fashion-MNIST, which is on disk here), then
`python -m jaxgen.evaluate --workdir ...`. Re-running resumes or skips finished runs.
Writes experiments/zoo/results.md and the sample grids docs/zoo/<name>.png.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FASHION = ["--config.dataset.name=fashion_mnist", "--config.dataset.image_size=32"]
SMALL_RESNET = FASHION + ["--config.model.width=32"]


def _steps(n: int, every: int) -> list[str]:
  return [f"--config.train.num_steps={n}", f"--config.train.sample_every={every}",
          f"--config.train.checkpoint_every={every}", "--config.train.progress_bar=False"]


# name -> (config file, overrides, what it shows)
ZOO: dict[str, tuple[str, list[str], str]] = {
    "dcgan_fashion_mnist": ("dcgan_fashion_mnist", _steps(2000, 1000), "DCGAN, NS loss"),
    "lsgan_fashion_mnist": ("lsgan_fashion_mnist", _steps(2000, 1000), "least-squares loss"),
    "wgan_gp_fashion_mnist": ("wgan_gp_fashion_mnist", _steps(500, 250),
                              "WGAN-GP, 5 critic steps"),
    "cgan_fashion_mnist": ("cgan_fashion_mnist", _steps(1000, 500), "concat conditioning"),
    "projection_fashion_mnist": ("projection_fashion_mnist", _steps(1000, 500),
                                 "projection discriminator"),
    "acgan_fashion_mnist": ("acgan_fashion_mnist", _steps(1000, 500), "AC-GAN"),
    "adcgan_fashion_mnist": ("adcgan_fashion_mnist", _steps(1000, 500), "ADC-GAN"),
    "diffaug_digits": ("diffaug_digits", _steps(4000, 2000), "DCGAN + DiffAugment, digits"),
    "stylegan2_fashion_mnist": ("stylegan2_fashion_mnist", _steps(2000, 1000),
                                "StyleGAN2: skip G, residual D, lazy R1 + path length"),
    "stylegan2_ada_digits": ("stylegan2_ada_digits", _steps(2000, 1000),
                             "StyleGAN2 + ADA, 1437 digits 16x16"),
    "vae_fashion_mnist": ("vae_fashion_mnist", _steps(1000, 500), "VAE (DCGAN decoder)"),
    "sngan_fashion_mnist": ("sngan_cifar10", SMALL_RESNET + _steps(300, 150) + ["--config.model.d_width=32"],
                            "SNGAN ResNet, spectral D, hinge, 5 critic steps"),
    "sagan_fashion_mnist": ("sagan_cifar10", SMALL_RESNET + _steps(300, 150),
                            "SAGAN: SNGAN + self-attention at 16x16"),
    "biggan_fashion_mnist": ("biggan_cifar10", SMALL_RESNET + _steps(300, 150) + [
        "--config.train.ema_start=150", "--config.train.ema_decay=0.99"], "BigGAN: projection, shared embedding, cBN, EMA"),
}
COLUMNS = ["fid", "kid", "is", "precision", "recall"]


def _run(cmd: list[str]) -> None:
  print("+", " ".join(cmd), flush=True)
  subprocess.run(cmd, check=True, cwd=REPO)


def _last_metrics(workdir: str) -> dict:
  """The last training log row, its `elapsed_s` summed over resumed segments (each restarts
  the clock, so a drop in elapsed_s starts a new segment)."""
  last, before_resumes = {}, 0.0
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    for line in f:
      row = json.loads(line)
      if "elapsed_s" in row:
        if last and row["elapsed_s"] < last["elapsed_s"]:
          before_resumes += last["elapsed_s"]
        last = row
  return {**last, "elapsed_s": last.get("elapsed_s", 0.0) + before_resumes}


def _metric(results: dict, base: str) -> str:
  for name, value in results.items():
    if name == base or name.startswith(base + "_"):
      if not name.endswith("_std"):
        return f"{value:.3g}"
  return "-"


def train_and_evaluate(name: str, root: str) -> dict:
  config, overrides, _ = ZOO[name]
  workdir = os.path.join(root, name)
  eval_path = os.path.join(workdir, "eval.json")
  if not os.path.exists(eval_path):
    _run([sys.executable, "-m", "jaxgen.main", f"--config=configs/{config}.py",
          f"--workdir={workdir}", *overrides])
    _run([sys.executable, "-m", "jaxgen.evaluate", f"--workdir={workdir}"])
  with open(eval_path) as f:
    results = json.load(f)
  os.makedirs(os.path.join(REPO, "docs", "zoo"), exist_ok=True)
  shutil.copy(os.path.join(workdir, "samples.png"),
              os.path.join(REPO, "docs", "zoo", f"{name}.png"))
  return {"results": results.get("metrics", results), "train": _last_metrics(workdir)}


def _kept_rows(path: str, replaced: set[str]) -> dict[str, str]:
  """The table lines of `path` for runs not re-measured now (so --only keeps the others)."""
  if not os.path.exists(path):
    return {}
  with open(path) as f:
    cells = [line.split("|") for line in f if line.startswith("| ")]
  return {c[1].strip(): "|".join(c).rstrip("\n") for c in cells
          if c[1].strip() in ZOO and c[1].strip() not in replaced}


def write_table(rows: dict[str, dict], path: str) -> None:
  lines = ["| run | config | what | steps | wall time | FID | KID | IS | precision | recall |",
           "|---|---|---|---|---|---|---|---|---|---|"]
  kept = _kept_rows(path, set(rows))
  for name in ZOO:
    if name in kept:
      lines.append(kept[name])
      continue
    if name not in rows:
      continue
    row = rows[name]
    config, _, what = ZOO[name]
    train, results = row["train"], row["results"]
    cells = [name, f"`configs/{config}.py`", what, str(train.get("step", "?")),
             f"{train.get('elapsed_s', 0) / 60:.1f} min"]
    cells += [_metric(results, c) for c in COLUMNS]
    lines.append("| " + " | ".join(cells) + " |")
  with open(path, "w") as f:
    f.write("\n".join(lines) + "\n")
  print("\n".join(lines))


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", default="runs/zoo")
  parser.add_argument("--only", default="", help="comma-separated subset of: " + ",".join(ZOO))
  args = parser.parse_args()
  names = [n for n in args.only.split(",") if n] or list(ZOO)
  unknown = sorted(set(names) - set(ZOO))
  if unknown:
    raise SystemExit(f"unknown --only entries {unknown}; choose from: {', '.join(ZOO)}")
  rows = {}
  for name in names:
    rows[name] = train_and_evaluate(name, args.workdir)
    write_table(rows, os.path.join(REPO, "experiments", "zoo", "results.md"))


if __name__ == "__main__":
  main()
