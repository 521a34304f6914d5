"""Glow maximum-likelihood training step, jaxgen vs the same architecture in PyTorch eager.

The models and steps of configs/glow_digits.py (8x8x1, 17 levels, width 32) and
configs/glow_fashion_mnist.py (28x28x1, 256 levels, width 64): 2 levels of squeeze +
4 x [actnorm, LU-decomposed 1x1 conv, affine coupling (sigmoid(h + 2) scale; conv 3x3,
ReLU, conv 1x1, ReLU, zero-initialised conv 3x3 on half the channels)], a factor-out with
a learned conditional prior (zero-initialised conv 3x3) between levels, a N(0, I) base;
batch 64, uniform dequantisation, the mean NLL, one Adam(1e-3) step. jaxgen: the jitted
train step of trainer 'flow' (benchmarks/bench_train.measure, several steps per call);
PyTorch: median seconds per step on one fixed batch at 2 and 1 threads, the ratio
against the faster.
"""

from __future__ import annotations

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_train import measure  # noqa: E402
from benchmarks.common import torch_adam_steps_per_s, versus_torch_table  # noqa: E402
from jaxgen import data  # noqa: E402
from tests.conftest import load_config  # noqa: E402

try:
  import torch
  import torch.nn.functional as F
  from torch import nn as tnn
except ImportError:  # pragma: no cover - torch is optional
  torch = None

BATCH = 64


def jaxgen_config(name: str):
  """configs/<name>.py; the embedded digits stand in for a missing Fashion-MNIST (28x28)."""
  config = load_config(name)
  if config.dataset.name == "fashion_mnist" and not os.path.isdir(
      "/usr/share/datasets/fashion-mnist"):
    config.dataset.name, config.dataset.image_size = "digits", 28
  return config


if torch is not None:

  def squeeze(x):
    b, c, h, w = x.shape
    x = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(b, 4 * c, h // 2, w // 2)

  class ActNorm(tnn.Module):
    def __init__(self, c):
      super().__init__()
      self.loc = tnn.Parameter(torch.zeros(1, c, 1, 1))
      self.logscale = tnn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, x):
      return (x + self.loc) * torch.exp(self.logscale), \
          x.shape[2] * x.shape[3] * self.logscale.sum()

  class InvConvLU(tnn.Module):
    def __init__(self, c):
      super().__init__()
      q = torch.linalg.qr(torch.randn(c, c))[0]
      p, l, u = torch.linalg.lu(q)
      s = torch.diagonal(u)
      self.register_buffer("p", p)
      self.register_buffer("sign", torch.sign(s))
      self.register_buffer("eye", torch.eye(c))
      self.l = tnn.Parameter(l)
      self.u = tnn.Parameter(torch.triu(u, 1))
      self.log_s = tnn.Parameter(torch.log(torch.abs(s)))

    def forward(self, x):
      c = x.shape[1]
      w = self.p @ (torch.tril(self.l, -1) + self.eye) @ (
          torch.triu(self.u, 1) + torch.diag(self.sign * torch.exp(self.log_s)))
      return F.conv2d(x, w.view(c, c, 1, 1)), x.shape[2] * x.shape[3] * self.log_s.sum()

  def zero_conv(cin, cout):
    conv = tnn.Conv2d(cin, cout, 3, padding=1)
    tnn.init.zeros_(conv.weight)
    tnn.init.zeros_(conv.bias)
    return conv

  class Coupling(tnn.Module):
    def __init__(self, c, hidden):
      super().__init__()
      self.half = c // 2
      self.net = tnn.Sequential(tnn.Conv2d(self.half, hidden, 3, padding=1), tnn.ReLU(),
                                tnn.Conv2d(hidden, hidden, 1), tnn.ReLU(),
                                zero_conv(hidden, 2 * (c - self.half)))

    def forward(self, x):
      a, b = x[:, :self.half], x[:, self.half:]
      out = self.net(a)
      t, raw = out[:, :b.shape[1]], out[:, b.shape[1]:]
      log_s = F.logsigmoid(raw + 2.0)
      return torch.cat([a, b * torch.exp(log_s) + t], 1), log_s.flatten(1).sum(1)

  class Glow(tnn.Module):
    def __init__(self, c, levels, steps, hidden):
      super().__init__()
      self.levels = tnn.ModuleList()
      self.priors = tnn.ModuleList()
      for level in range(levels):
        c *= 4
        self.levels.append(tnn.ModuleList(
            [m for _ in range(steps) for m in (ActNorm(c), InvConvLU(c), Coupling(c, hidden))]))
        if level < levels - 1:
          self.priors.append(zero_conv(c // 2, 2 * (c - c // 2)))
          c //= 2

    def forward(self, x):
      logdet, pieces = torch.zeros(x.shape[0]), []
      for level, layers in enumerate(self.levels):
        x = squeeze(x)
        for layer in layers:
          x, ld = layer(x)
          logdet = logdet + ld
        if level < len(self.priors):
          h, z = x[:, :x.shape[1] // 2], x[:, x.shape[1] // 2:]
          out = self.priors[level](h)
          mu, logsig = out[:, :z.shape[1]], out[:, z.shape[1]:]
          pieces.append(((z - mu) * torch.exp(-logsig)).flatten(1))
          logdet = logdet - logsig.flatten(1).sum(1)
          x = h
      z = torch.cat(pieces + [x.flatten(1)], 1)
      log_pz = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(1)
      return -(log_pz + logdet)


def torch_steps_per_s(config, threads: int, steps: int, max_seconds: float) -> float:
  """1 / median seconds of a Glow maximum-likelihood step in eager PyTorch."""
  f = config.flow
  size = data.get_dataset(config.dataset).spec.shape[0]
  bin_width = 2.0 / (f.num_bins - 1)
  x = torch.round(torch.rand(BATCH, 1, size, size) * (f.num_bins - 1)) * bin_width - 1

  def loss_of(model):
    return model(x + bin_width * (torch.rand_like(x) - 0.5)).mean()

  return torch_adam_steps_per_s(lambda: Glow(1, f.levels, f.steps, f.width), loss_of,
                                threads, steps, max_seconds)


def main() -> str:
  cases = []
  for name, per_call in (("glow_digits", 20), ("glow_fashion_mnist", 5)):
    config = jaxgen_config(name)
    assert config.train.batch_size == BATCH
    cases.append((name, lambda c=config, k=per_call: measure(c, steps_per_call=k, calls=5)[
        "steps_per_s"], torch and (
            lambda t, c=config: torch_steps_per_s(c, t, steps=20, max_seconds=20.0))))
  note = (f"torch {torch.__version__ if torch else 'missing'}. Glow, 2 levels x 4 steps, "
          f"batch {BATCH}, Adam 1e-3; configs/<config>.py.\n\n")
  return versus_torch_table("config", note, cases)


if __name__ == "__main__":
  main()
