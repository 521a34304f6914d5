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
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_train import measure  # noqa: E402
from benchmarks.common import torch_adam_steps_per_s, versus_torch_table  # noqa: E402
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
  x = torch.rand(128, 1, 28, 28) * 2 - 1
  y = torch.randint(0, 10, (128,))
  ce = tnn.CrossEntropyLoss()

  def loss_of(model):
    return ce(model(torch_pgd(model, x, y, EPS, STEPS) if adversarial else x), y)

  return torch_adam_steps_per_s(torch_cnn, loss_of, threads, steps, max_seconds)


def main() -> str:
  cases = [(label, lambda m=method, k=per_call: measure(jaxgen_config(m), steps_per_call=k,
                                                      calls=5)["steps_per_s"],
            torch and (lambda t, m=method: torch_steps_per_s(m == "pgd", t, steps=20,
                                                             max_seconds=20.0)))
           for label, method, per_call in (("PGD-10 adversarial training step", "pgd", 5),
                                           ("clean training step", "none", 20))]
  note = (f"torch {torch.__version__ if torch else 'missing'}. Small CNN on 28x28x1, "
          f"batch 128, PGD-10 at eps {EPS} (L-inf, [-1, 1] scale), Adam 1e-3.\n\n")
  return versus_torch_table("step", note, cases)


if __name__ == "__main__":
  main()
