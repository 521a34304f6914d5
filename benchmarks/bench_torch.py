"""jaxgen training-step throughput vs an equivalent PyTorch eager baseline, same run.

Two models: DCGAN 32x32x1 (width 64, latent 100, batch 64, BatchNorm, NS loss,
Adam 2e-4/.5/.999; the embedded digits resized to 32x32, as CIFAR-10 needs a download)
and the ring8 MLP GAN of configs/gan_ring8.py. One step = one D update on a real batch
and G(z).detach(), then one G update with fresh z (n_critic = 1) on both sides.
jaxgen is timed with benchmarks/bench_train.measure; PyTorch with median seconds per
step on pre-generated random data, torch.set_num_threads(2). In the PyTorch G update
D's parameters are frozen (requires_grad False) so it skips D's weight gradients,
as jax.grad w.r.t. G's parameters does. DCGAN FLOPs per step come from XLA's cost
analysis of one jitted jaxgen train step and are used for both sides' GFLOP/s.
PyTorch runs at 2 and at 1 intra-op threads; the ratio and its GFLOP/s use the faster
(OpenMP with 2 threads degrades badly when another process holds a core).
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_conv import matmul_peak  # noqa: E402
from benchmarks.bench_train import measure  # noqa: E402
from benchmarks.common import markdown_table  # noqa: E402
from jaxgen import data, train  # noqa: E402
from jaxgen.trainers import build_trainer  # noqa: E402
from tests.conftest import load_config  # noqa: E402

try:
  import torch
  from torch import nn as tnn
except ImportError:  # pragma: no cover - torch is optional
  torch = None


def dcgan_config():
  """The default DCGAN at 32x32x1 (digits), latent 100, width 64, batch 64."""
  config = load_config("default")
  config.dataset.image_size = 32
  config.model.latent_dim = 100
  return config


def step_flops(config) -> float:
  """FLOPs of one jitted jaxgen train step, from XLA's cost analysis."""
  config = config.copy_and_resolve_references()
  config.train.steps_per_call = 1
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  state = trainer.init(jax.random.PRNGKey(0))
  batch = next(train.stacked_batches(dataset, config, trainer.batches_per_step, 0))
  batch = jax.tree.map(lambda a: jnp.asarray(a[0]), batch)  # [n_critic, B, ...]
  cost = jax.jit(trainer.train_step).lower(state, batch).compile().cost_analysis()
  if isinstance(cost, (list, tuple)):
    cost = cost[0]
  return float(cost["flops"])


# ----------------------------------------------------------------------------- PyTorch


def torch_dcgan(latent: int, width: int, side: int, channels: int) -> tuple[Any, Any]:
  """DCGAN G and D as in jaxgen/models/dcgan.py (bias only where no BN follows)."""
  n = int(np.log2(side // 4))
  ch = width * 2 ** (n - 1)
  g = [tnn.ConvTranspose2d(latent, ch, 4, 1, 0, bias=False), tnn.BatchNorm2d(ch), tnn.ReLU()]
  for _ in range(n - 1):
    g += [tnn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), tnn.BatchNorm2d(ch // 2),
          tnn.ReLU()]
    ch //= 2
  g += [tnn.ConvTranspose2d(ch, channels, 4, 2, 1), tnn.Tanh()]
  d, cin, ch = [], channels, width
  for i in range(n):
    d += [tnn.Conv2d(cin, ch, 4, 2, 1, bias=i == 0)]
    d += [tnn.BatchNorm2d(ch)] if i > 0 else []
    d += [tnn.LeakyReLU(0.2)]
    cin, ch = ch, ch * 2
  d += [tnn.Conv2d(cin, 1, 4, 1, 0), tnn.Flatten(0)]
  return tnn.Sequential(tnn.Unflatten(1, (latent, 1, 1)), *g), tnn.Sequential(*d)


def torch_mlp(latent: int, hidden: int, depth: int, dim: int) -> tuple[Any, Any]:
  """MLP G (ReLU) and D (LeakyReLU .2) as in jaxgen/models/mlp.py."""
  g, d, a, b = [], [], latent, dim
  for _ in range(depth):
    g += [tnn.Linear(a, hidden), tnn.ReLU()]
    d += [tnn.Linear(b, hidden), tnn.LeakyReLU(0.2)]
    a = b = hidden
  return (tnn.Sequential(*g, tnn.Linear(hidden, dim)),
          tnn.Sequential(*d, tnn.Linear(hidden, 1), tnn.Flatten(0)))


def torch_steps_per_s(g: Any, d: Any, real: Any, latent: int, lr: float, b1: float,
                      steps: int, warmup: int, min_seconds: float = 0.0,
                      max_seconds: float = 8.0) -> float:
  """Steps/s (1 / median step time) of an NS-loss GAN train step in eager PyTorch.

  Times at least `steps` steps and `min_seconds`, but stops after `max_seconds`
  (with at least 3 steps) so a slow thread setting cannot blow the time budget.
  """
  g_opt = torch.optim.Adam(g.parameters(), lr=lr, betas=(b1, 0.999))
  d_opt = torch.optim.Adam(d.parameters(), lr=lr, betas=(b1, 0.999))
  bce = tnn.BCEWithLogitsLoss()  # softplus form: log(1 + exp(-x)) for real, (x) for fake
  n = real.shape[0]
  ones, zeros = torch.ones(n), torch.zeros(n)
  gen = torch.Generator().manual_seed(0)

  def step() -> None:
    z = torch.randn(n, latent, generator=gen)
    fake = g(z).detach()
    d_loss = bce(d(real), ones) + bce(d(fake), zeros)
    d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    d_opt.step()
    d.requires_grad_(False)
    z = torch.randn(n, latent, generator=gen)
    g_loss = bce(d(g(z)), ones)
    g_opt.zero_grad(set_to_none=True)
    g_loss.backward()
    g_opt.step()
    d.requires_grad_(True)

  g.train()
  d.train()
  start = time.perf_counter()
  for _ in range(warmup):
    step()
    if time.perf_counter() - start > max_seconds / 4:
      break
  times: list[float] = []
  start = time.perf_counter()
  while len(times) < steps or time.perf_counter() - start < min_seconds:
    if len(times) >= 3 and time.perf_counter() - start > max_seconds:
      break
    t = time.perf_counter()
    step()
    times.append(time.perf_counter() - t)
  return 1.0 / statistics.median(times)


# ----------------------------------------------------------------------------- main


def main() -> str:
  dc = dcgan_config()
  ring8 = load_config("gan_ring8")
  peak = matmul_peak()
  flops = step_flops(dc)
  jax_dc = measure(dc, steps_per_call=10, calls=5)["steps_per_s"]
  jax_mlp = measure(ring8, steps_per_call=100, calls=5)["steps_per_s"]

  header = ["model", "jaxgen steps/s", "PyTorch steps/s (2 threads)",
            "PyTorch steps/s (1 thread)", "ratio jaxgen/best PyTorch",
            "jaxgen GFLOP/s", "PyTorch GFLOP/s", "jaxgen % of peak", "PyTorch % of peak"]
  gf_j = flops * jax_dc / 1e9
  note = (f"torch {torch.__version__ if torch else 'missing'}. "
          f"DCGAN 32x32x1, width 64, latent 100, batch 64: {flops / 1e9:.1f} GFLOP/step "
          f"(XLA cost analysis of one jitted jaxgen step, used for both sides); "
          f"jitted f32 2048^3 matmul peak: {peak:.0f} GFLOP/s.\n\n")
  if torch is None:
    rows = [["DCGAN 32x32x1", jax_dc, "skipped (no torch)", "-", "-", gf_j, "-",
             100 * gf_j / peak, "-"],
            ["ring8 MLP GAN", jax_mlp, "skipped (no torch)", "-", "-", "-", "-", "-", "-"]]
  else:
    torch.manual_seed(0)
    side, ch = dc.dataset.image_size, 1
    dc_models = torch_dcgan(dc.model.latent_dim, dc.model.width, side, ch)
    dc_real = torch.rand(dc.train.batch_size, ch, side, side) * 2 - 1
    mlp_models = torch_mlp(ring8.model.latent_dim, ring8.model.width, ring8.model.depth, 2)
    mlp_real = torch.randn(ring8.train.batch_size, 2)
    pt_dc, pt_mlp = {}, {}
    for threads in (2, 1):  # 2 = the machine's cores; 1 thread can win under CPU contention
      torch.set_num_threads(threads)
      pt_dc[threads] = torch_steps_per_s(*copy.deepcopy(dc_models), dc_real,
                                         dc.model.latent_dim, dc.optim.g.lr, dc.optim.g.b1,
                                         steps=15, warmup=3)
      pt_mlp[threads] = torch_steps_per_s(*copy.deepcopy(mlp_models), mlp_real,
                                          ring8.model.latent_dim, ring8.optim.g.lr,
                                          ring8.optim.g.b1, steps=300, warmup=20,
                                          min_seconds=2.0)
    torch.set_num_threads(2)
    best_dc, best_mlp = max(pt_dc.values()), max(pt_mlp.values())
    gf_t = flops * best_dc / 1e9
    rows = [["DCGAN 32x32x1", jax_dc, pt_dc[2], pt_dc[1], jax_dc / best_dc, gf_j, gf_t,
             100 * gf_j / peak, 100 * gf_t / peak],
            ["ring8 MLP GAN", jax_mlp, pt_mlp[2], pt_mlp[1], jax_mlp / best_mlp,
             "-", "-", "-", "-"]]
  table = note + markdown_table(header, rows)
  print(table)
  return table


if __name__ == "__main__":
  main()
