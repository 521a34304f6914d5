"""PGD-10 adversarial training step of the CPU CNN, jaxgen vs the same step in PyTorch eager.

The model and step of configs/pgd_at_fashion_mnist.py: 28x28x1 inputs in [-1, 1], the small
CNN (3x3 conv 32, ReLU, 2x2 max pool, 3x3 conv 64, ReLU, pool, Dense 128, Dense 10),
batch 128; L-inf PGD-10 at eps 0.2 from a uniform random start, step max(eps / 5, 4/255),
projected and clipped to [-1, 1] after every step, on the summed cross-entropy; then one
Adam(1e-3) step on the mean cross-entropy of the PGD batch. A clean step (no attack) is
measured too, so the attack's share is visible on both sides. jaxgen: the jitted
train step of trainer 'classifier' (benchmarks/bench_train.measure, several steps per
call); PyTorch: median seconds per step on one fixed random batch, at 2 and 1 threads, the
ratio against the faster.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_train import measure  # noqa: E402
from benchmarks.common import markdown_table  # noqa: E402
from jaxgen.config_base import fashion_mnist_cnn_classifier  # noqa: E402

try:
  import torch
  from torch import nn as tnn
except ImportError:  # pragma: no cover - torch is optional
  torch = None

STEPS, EPS, MIN_STEP = 10, 0.2, 4 / 255


def jaxgen_config(method: str):
  """configs/pgd_at_fashion_mnist.py (method 'pgd') or its clean twin (method 'none'); the
  embedded digits stand in when Fashion-MNIST is not installed (same 28x28 shapes)."""
  config = fashion_mnist_cnn_classifier(method)
  if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
    config.dataset.name, config.dataset.image_size = "digits", 28
  return config


def torch_cnn():
  return tnn.Sequential(
      tnn.Conv2d(1, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
      tnn.Conv2d(32, 64, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
      tnn.Flatten(), tnn.Linear(64 * 7 * 7, 128), tnn.ReLU(), tnn.Linear(128, 10))


def torch_pgd(model, x, y, eps: float, steps: int):
  """L-inf PGD with jaxgen's rules: uniform start, sign steps, project, clip to [-1, 1]."""
  step = max(eps / (0.5 * steps), MIN_STEP)
  ce = tnn.CrossEntropyLoss(reduction="sum")
  x_adv = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(-1, 1)
  for _ in range(steps):
    x_adv.requires_grad_(True)
    grad, = torch.autograd.grad(ce(model(x_adv), y), x_adv)
    x_adv = x_adv.detach() + step * grad.sign()
    x_adv = (x + (x_adv - x).clamp(-eps, eps)).clamp(-1, 1)
  return x_adv.detach()


def torch_steps_per_s(adversarial: bool, threads: int, steps: int, max_seconds: float) -> float:
  """1 / median seconds of a (PGD-10 or clean) training step in eager PyTorch."""
  torch.set_num_threads(threads)
  torch.manual_seed(0)
  model = torch_cnn()
  opt = torch.optim.Adam(model.parameters(), lr=1e-3)
  x = torch.rand(128, 1, 28, 28) * 2 - 1
  y = torch.randint(0, 10, (128,))
  ce = tnn.CrossEntropyLoss()

  def step():
    inputs = torch_pgd(model, x, y, EPS, STEPS) if adversarial else x
    loss = ce(model(inputs), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()

  for _ in range(2):
    step()
  times, start = [], time.perf_counter()
  while len(times) < steps and (len(times) < 3 or time.perf_counter() - start < max_seconds):
    t = time.perf_counter()
    step()
    times.append(time.perf_counter() - t)
  return 1.0 / statistics.median(times)


def main() -> str:
  rows = []
  for label, method, per_call in (("PGD-10 adversarial training step", "pgd", 5),
                                  ("clean training step", "none", 20)):
    jax_rate = measure(jaxgen_config(method), steps_per_call=per_call, calls=5)["steps_per_s"]
    if torch is None:
      rows.append([label, jax_rate, "skipped (no torch)", "-", "-"])
      continue
    pt = {t: torch_steps_per_s(method == "pgd", t, steps=20, max_seconds=20.0) for t in (2, 1)}
    torch.set_num_threads(2)
    rows.append([label, jax_rate, pt[2], pt[1], jax_rate / max(pt.values())])
  note = (f"torch {torch.__version__ if torch else 'missing'}. Small CNN on 28x28x1, "
          f"batch 128, PGD-10 at eps {EPS} (L-inf, [-1, 1] scale), Adam 1e-3.\n\n")
  table = note + markdown_table(
      ["step", "jaxgen steps/s", "PyTorch steps/s (2 threads)", "PyTorch steps/s (1 thread)",
       "ratio jaxgen/best PyTorch"], rows)
  print(table)
  return table


if __name__ == "__main__":
  main()
