"""StyleGAN2 32x32 training steps: jaxgen vs the same architecture in PyTorch eager, same run.

The model of configs/stylegan2_fashion_mnist.py on the embedded digits at 32x32x1
(width 32 at every resolution, z = w = 64, 2 mapping layers, batch 32): a skip G of
modulated convs with noise, a residual D with minibatch stddev, [1,3,3,1] FIR resampling.
One step = D update (NS loss; R1 every 16th step) and G update (NS loss; path length
every 4th step, half batch), style mixing 0.9, on both sides. Time per step is averaged
over whole 16-step cycles, so both sides pay the lazy regularisers at the same rate.
PyTorch runs at 2 and at 1 intra-op threads; the ratio uses the faster.
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_train import measure  # noqa: E402
from benchmarks.common import markdown_table  # noqa: E402
from jaxgen.config_base import stylegan2_config  # noqa: E402

try:
  import torch
  import torch.nn.functional as F
  from torch import nn as tnn
except ImportError:  # pragma: no cover - torch is optional
  torch = None

CYCLE = 16  # R1 interval; a multiple of the path-length interval 4


def bench_config():
  config = stylegan2_config("digits", 32, width=32, latent_dim=64, batch_size=32,
                            num_steps=10_000)
  config.train.ema_decay = 0.0
  return config


# ----------------------------------------------------------------------------- PyTorch

def _fir(x, pads, gain=1.0, stride=1):
  taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
  f = torch.outer(taps, taps) / taps.sum() ** 2 * gain
  c = x.shape[1]
  x = F.pad(x, [pads[0], pads[1], pads[0], pads[1]])
  return F.conv2d(x, f[None, None].repeat(c, 1, 1, 1), stride=stride, groups=c)


def _upsample(x):
  n, c, h, w = x.shape
  up = x.new_zeros(n, c, h, 2, w, 2)
  up[:, :, :, 0, :, 0] = x
  return _fir(up.reshape(n, c, 2 * h, 2 * w), (2, 1), gain=4.0)


def _lrelu(x):
  return F.leaky_relu(x, 0.2) * math.sqrt(2)


def _norm2(x):
  return x * (x.square().mean(1, keepdim=True) + 1e-8).rsqrt()


if torch is not None:
  class EqLinear(tnn.Module):
    def __init__(self, cin, cout, lr_mul=1.0, bias_init=0.0, act=False):
      super().__init__()
      self.weight = tnn.Parameter(torch.randn(cout, cin) / lr_mul)
      self.bias = tnn.Parameter(torch.full([cout], float(bias_init)))
      self.gain, self.lr_mul, self.act = lr_mul / math.sqrt(cin), lr_mul, act

    def forward(self, x):
      y = F.linear(x, self.weight * self.gain, self.bias * self.lr_mul)
      return _lrelu(y) if self.act else y

  class EqConv(tnn.Module):
    def __init__(self, cin, cout, k, down=False, bias=True, act=True):
      super().__init__()
      self.weight = tnn.Parameter(torch.randn(cout, cin, k, k))
      self.bias = tnn.Parameter(torch.zeros(cout)) if bias else None
      self.gain, self.k, self.down, self.act = 1 / math.sqrt(cin * k * k), k, down, act

    def forward(self, x):
      w = self.weight * self.gain
      if self.down:
        p = (self.k - 1) // 2 + 1
        y = F.conv2d(_fir(x, (p, p)), w, self.bias, stride=2)
      else:
        y = F.conv2d(x, w, self.bias, padding=self.k // 2)
      return _lrelu(y) if self.act else y

  class ModConv(tnn.Module):
    def __init__(self, w_dim, cin, cout, k, demod=True, up=False):
      super().__init__()
      self.affine = EqLinear(w_dim, cin, bias_init=1.0)
      self.weight = tnn.Parameter(torch.randn(cout, cin, k, k))
      self.k, self.demod, self.up = k, demod, up

    def forward(self, x, w):
      s = self.affine(w)
      if not self.demod:
        s = s / math.sqrt(self.weight[0].numel())
      x = x * s[:, :, None, None]
      if self.up:
        x = _upsample(x)
      y = F.conv2d(x, self.weight, padding=self.k // 2)
      if self.demod:
        d = (s.square() @ self.weight.square().sum([2, 3]).T + 1e-8).rsqrt()
        y = y * d[:, :, None, None]
      return y

  class SynthLayer(tnn.Module):
    def __init__(self, w_dim, cin, cout, up=False):
      super().__init__()
      self.conv = ModConv(w_dim, cin, cout, 3, up=up)
      self.strength = tnn.Parameter(torch.zeros([]))
      self.bias = tnn.Parameter(torch.zeros(cout))

    def forward(self, x, w):
      x = self.conv(x, w)
      noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3])
      return _lrelu(x + noise * self.strength + self.bias[None, :, None, None])

  class Generator(tnn.Module):
    def __init__(self, z_dim, width, levels, channels, map_layers=2):
      super().__init__()
      self.mapping = tnn.Sequential(*[EqLinear(z_dim, z_dim, 0.01, act=True)
                                      for _ in range(map_layers)])
      self.const = tnn.Parameter(torch.randn(width, 4, 4))
      self.convs = tnn.ModuleList([SynthLayer(z_dim, width, width)])
      self.rgbs = tnn.ModuleList([ModConv(z_dim, width, channels, 1, demod=False)])
      self.rgb_bias = tnn.ParameterList([tnn.Parameter(torch.zeros(channels))])
      for _ in range(1, levels):
        self.convs.extend([SynthLayer(z_dim, width, width, up=True),
                           SynthLayer(z_dim, width, width)])
        self.rgbs.append(ModConv(z_dim, width, channels, 1, demod=False))
        self.rgb_bias.append(tnn.Parameter(torch.zeros(channels)))
      self.num_ws = 2 * levels

    def map(self, z):
      return self.mapping(_norm2(z))

    def synthesize(self, ws):
      x = self.const[None].expand(ws.shape[0], -1, -1, -1)
      x = self.convs[0](x, ws[:, 0])
      img = self.rgbs[0](x, ws[:, 1]) + self.rgb_bias[0][None, :, None, None]
      for i in range(1, len(self.rgbs)):
        x = self.convs[2 * i - 1](x, ws[:, 2 * i - 1])
        x = self.convs[2 * i](x, ws[:, 2 * i])
        img = _upsample(img) + self.rgbs[i](x, ws[:, 2 * i + 1]) + \
            self.rgb_bias[i][None, :, None, None]
      return img

  class Discriminator(tnn.Module):
    def __init__(self, width, levels, channels):
      super().__init__()
      self.fromrgb = EqConv(channels, width, 1)
      self.blocks = tnn.ModuleList([tnn.ModuleList([
          EqConv(width, width, 1, down=True, bias=False, act=False),
          EqConv(width, width, 3), EqConv(width, width, 3, down=True)])
          for _ in range(levels - 1)])
      self.conv = EqConv(width + 1, width, 3)
      self.fc = EqLinear(width * 16, width, act=True)
      self.out = EqLinear(width, 1)

    def forward(self, x):
      h = self.fromrgb(x)
      for skip, conv0, conv1 in self.blocks:
        h = (skip(h) + conv1(conv0(h))) * math.sqrt(0.5)
      n, c, hh, ww = h.shape
      g = min(4, n)
      y = h.reshape(g, -1, 1, c, hh, ww)
      y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt().mean([2, 3, 4])
      y = y.reshape(-1, 1, 1, 1).repeat(g, 1, hh, ww)
      h = self.conv(torch.cat([h, y], 1))
      return self.out(self.fc(h.flatten(1)))[:, 0]


def torch_seconds_per_step(config, real, cycles: int) -> float:
  """Mean seconds per step over `cycles` 16-step cycles (after one warm-up cycle)."""
  m, sg = config.model, config.stylegan2
  side, n = real.shape[-1], real.shape[0]
  levels = int(math.log2(side)) - 1
  g, d = Generator(m.latent_dim, m.width, levels, 1), Discriminator(m.width, levels, 1)
  opt = lambda net: torch.optim.Adam(net.parameters(), lr=0.0025, betas=(0.0, 0.99))
  g_opt, d_opt = opt(g), opt(d)
  pl_mean = torch.zeros([])

  def mapped_ws(batch):
    w = g.map(torch.randn(batch, m.latent_dim))[:, None].repeat(1, g.num_ws, 1)
    if np.random.rand() < sg.style_mixing_prob:
      cutoff = np.random.randint(1, g.num_ws)
      w[:, cutoff:] = g.map(torch.randn(batch, m.latent_dim))[:, None]
    return w

  def step(i):
    nonlocal pl_mean
    with torch.no_grad():
      fake = g.synthesize(mapped_ws(n))
    do_r1 = i % sg.r1_interval == 0
    x = real.detach().requires_grad_(do_r1)
    real_logits = d(x)
    loss = F.softplus(d(fake)).mean() + F.softplus(-real_logits).mean()
    if do_r1:
      (grad,) = torch.autograd.grad(real_logits.sum(), x, create_graph=True)
      loss = loss + grad.square().sum([1, 2, 3]).mean() * sg.r1_gamma / 2 * sg.r1_interval
    d_opt.zero_grad(set_to_none=True)
    loss.backward()
    d_opt.step()
    d.requires_grad_(False)
    loss = F.softplus(-d(g.synthesize(mapped_ws(n)))).mean()
    if i % sg.pl_interval == 0:
      ws = mapped_ws(n // sg.pl_batch_shrink)
      img = g.synthesize(ws)
      y = torch.randn_like(img) / math.sqrt(side * side)
      (grad,) = torch.autograd.grad((img * y).sum(), ws, create_graph=True)
      lengths = grad.square().sum(2).mean(1).sqrt()
      pl_mean = pl_mean.lerp(lengths.mean().detach(), sg.pl_decay)
      loss = loss + (lengths - pl_mean).square().mean() * sg.pl_weight * sg.pl_interval
    g_opt.zero_grad(set_to_none=True)
    loss.backward()
    g_opt.step()
    d.requires_grad_(True)

  for i in range(CYCLE):  # warm-up
    step(i)
  start = time.perf_counter()
  for i in range(CYCLE * cycles):
    step(i)
  return (time.perf_counter() - start) / (CYCLE * cycles)


def main(cycles: int = 3) -> str:
  config = bench_config()
  jax_steps_per_s = measure(config, steps_per_call=CYCLE, calls=cycles)["steps_per_s"]
  header = ["model", "jaxgen steps/s", "PyTorch steps/s (2 threads)",
            "PyTorch steps/s (1 thread)", "ratio jaxgen/best PyTorch"]
  if torch is None:
    rows = [["StyleGAN2 32x32x1", jax_steps_per_s, "skipped (no torch)", "-", "-"]]
  else:
    torch.manual_seed(0)
    np.random.seed(0)
    real = torch.rand(config.train.batch_size, 1, 32, 32) * 2 - 1
    pt = {}
    for threads in (2, 1):
      torch.set_num_threads(threads)
      pt[threads] = 1.0 / torch_seconds_per_step(config, real, cycles)
    torch.set_num_threads(2)
    rows = [["StyleGAN2 32x32x1", jax_steps_per_s, pt[2], pt[1],
             jax_steps_per_s / max(pt.values())]]
  note = (f"torch {torch.__version__ if torch else 'missing'}. StyleGAN2 32x32x1, width 32, "
          f"z = w = 64, 2 mapping layers, batch 32, R1 every 16 and path length every 4 "
          f"steps; {cycles} timed 16-step cycles per side.\n\n")
  table = note + markdown_table(header, rows)
  print(table)
  return table


if __name__ == "__main__":
  main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
