"""Per-run samples and final metrics of a sweep, summary.csv, a markdown table and a plot."""

from __future__ import annotations

import csv
import math
import os
from typing import Any, Sequence

import jax
import numpy as np

from jaxgen import images, metrics
from jaxgen.sweeps.grid import Branch, Grid
from jaxgen.writers import num_grid_samples, read_metrics

TIMING = ("steps_per_s", "examples_per_s", "elapsed_s", "wall_time")
EVAL_SAMPLES, EVAL_SEED = 2500, 123  # as experiments/mixtures/mode_coverage.py


def _sample(branch: Branch, states: Any, noise: jax.Array, per_run_noise: bool) -> np.ndarray:
  sample = jax.vmap(branch.trainer.sample, in_axes=(0, 0 if per_run_noise else None))
  return np.asarray(jax.device_get(jax.jit(sample)(states, noise)))


def evaluate(branch: Branch, states: Any) -> list[dict[str, float]]:
  """Mode coverage of every run of a 2-D mixture branch (VEEGAN/PacGAN protocol)."""
  dataset = branch.dataset
  if dataset.spec.kind != "points":
    return [{} for _ in branch.runs]
  noise = branch.trainer.noise(jax.random.PRNGKey(EVAL_SEED), EVAL_SAMPLES)
  results = []
  for points in _sample(branch, states, noise, per_run_noise=False):
    r = metrics.mode_coverage(points, dataset.means, dataset.stds, weights=dataset.weights)
    results.append({"modes_covered": int(r["modes_covered"]),
                    "high_quality_fraction": float(r["high_quality_fraction"]),
                    "reverse_kl": float(r["reverse_kl"])})
  return results


def write_samples(branch: Branch, states: Any, run_dirs: Sequence[str]) -> None:
  """`samples.png` per run from its own fixed latents; train.num_grid_samples=0 skips it."""
  kind = branch.dataset.spec.kind
  n = num_grid_samples(branch.config.train, kind)
  if not n:
    return
  noise = np.stack([branch.trainer.noise(jax.random.fold_in(jax.random.PRNGKey(r.seed), 1), n)
                    for r in branch.runs])
  for run, directory, samples in zip(branch.runs, run_dirs,
                                     _sample(branch, states, noise, per_run_noise=True)):
    path = os.path.join(directory, "samples.png")
    if kind == "image":
      images.save_image_grid(path, samples, scale=max(1, 256 // (samples.shape[1] * 8)))
    else:
      reference = branch.dataset.sample(n, seed=run.seed)["x"]
      images.save_scatter(path, samples, reference, title=f"run {run.index}")


def _diverged_at(records: list[dict[str, Any]]) -> int | str:
  for record in records:
    if any(isinstance(v, float) and not math.isfinite(v) for v in record.values()):
      return record["step"]
  return ""


def summary_rows(grid: Grid, evaluations: dict[int, dict[str, float]],
                 run_dirs: dict[int, str]) -> list[dict[str, Any]]:
  """One row per run: id, group, seed, swept values, last logged metrics, evaluation."""
  rows = []
  for group in grid.groups:
    for run in group.runs:
      records = read_metrics(run_dirs[run.index])
      last = {k: v for k, v in records[-1].items() if k not in TIMING}
      rows.append({"run": run.index, "group": group.index, "seed": run.seed, **run.values,
                   **last, "diverged_at": _diverged_at(records),
                   **evaluations.get(run.index, {})})
  return sorted(rows, key=lambda row: row["run"])


def write_csv(rows: list[dict[str, Any]], path: str) -> None:
  columns: list[str] = []
  for row in rows:
    columns += [c for c in row if c not in columns]
  with open(path, "w", newline="", encoding="utf-8") as f:
    writer = csv.DictWriter(f, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)


def default_metrics(rows: list[dict[str, Any]]) -> list[str]:
  """Mode coverage for point datasets, else the final losses."""
  if rows and "modes_covered" in rows[0]:
    return ["modes_covered", "high_quality_fraction"]
  return [m for m in ("g_loss", "d_loss") if rows and m in rows[0]]


def _short_names(fields: list[str]) -> dict[str, str]:
  """The shortest dotted suffix of each field that no other field shares ('d.lr')."""
  names = {}
  for field in fields:
    parts = field.split(".")
    for n in range(1, len(parts) + 1):
      suffix = ".".join(parts[-n:])
      if not any(o != field and o.endswith("." + suffix) for o in fields):
        break
    names[field] = field if len(fields) == 1 else suffix
  return names


def _by_setting(rows: list[dict[str, Any]], fields: list[str]) -> dict[str, list[dict]]:
  """Rows grouped by their non-seed swept values, labelled 'field=value, ...'."""
  names = _short_names(fields)
  groups: dict[str, list[dict]] = {}
  for row in rows:
    label = ", ".join(f"{names[f]}={row[f]}" for f in fields) or "all runs"
    groups.setdefault(label, []).append(row)
  return groups


def _values(rows: list[dict[str, Any]], metric: str) -> np.ndarray:
  return np.asarray([float(r.get(metric, math.nan)) for r in rows], np.float64)


def sample_std(values: Sequence[float]) -> float:
  """The sample standard deviation (ddof=1) of a table's seeds; 0 for a single value."""
  v = np.asarray(values, np.float64)
  return float(v.std(ddof=1)) if v.size > 1 else 0.0


def mean_std(values: Sequence[float], digits: str = ".3g", *, with_n: bool = True) -> str:
  """'mean ± std (n=N)' with the sample std (ddof=1); a single value stands alone, 'n=1'.

  `with_n=False` drops ' (n=N)', for tables with their own n column.
  """
  v = np.asarray(values, np.float64)
  n = f" (n={v.size})" if with_n else ""
  if v.size == 0:
    return "nan"
  if v.size == 1:
    return f"{v[0]:{digits}}{n}"
  return f"{v.mean():{digits}} ± {sample_std(v):{digits}}{n}"


def markdown_table(rows: list[dict[str, Any]], fields: list[str],
                   metric_names: Sequence[str]) -> str:
  """Mean ± std (ddof=1, n) over seeds of each metric, one line per setting of the sweep."""
  lines = ["| " + " | ".join(["setting", "runs", *metric_names]) + " |",
           "|" + "---|" * (len(metric_names) + 2)]
  for label, group in _by_setting(rows, fields).items():
    cells = []
    for name in metric_names:
      v = _values(group, name)
      v = v[np.isfinite(v)]
      cells.append(mean_std(v))
    lines.append(f"| {label} | {len(group)} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def plot(rows: list[dict[str, Any]], fields: list[str], metric_names: Sequence[str],
         path: str, title: str = "") -> None:
  """One panel per metric: each run as a dot per setting, mean ± std (ddof=1) as a bar."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  groups = _by_setting(rows, fields)
  width = max(4.0, 0.9 * len(groups) + 1.5)
  fig, axes = plt.subplots(1, max(len(metric_names), 1), dpi=100, squeeze=False,
                           figsize=(width * max(len(metric_names), 1), 3.6))
  for ax, name in zip(axes[0], metric_names):
    for x, (label, group) in enumerate(groups.items()):
      v = _values(group, name)
      jitter = np.linspace(-0.15, 0.15, len(v)) if len(v) > 1 else np.zeros(1)
      ax.scatter(x + jitter, v, s=14, alpha=0.6, color="tab:blue",
                 label="one run" if x == 0 else None)
      finite = v[np.isfinite(v)]
      if finite.size:
        ax.errorbar(x + 0.3, finite.mean(), yerr=sample_std(finite), fmt="o", color="black",
                    capsize=4, markersize=5, label="mean ± std" if x == 0 else None)
    ax.set_xticks(range(len(groups)), list(groups), rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(name)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
  if title:
    fig.suptitle(title, fontsize=10)
  fig.tight_layout()
  fig.savefig(path)
  plt.close(fig)
