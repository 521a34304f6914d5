"""Conv layers of the zoo, impl='xla' (lax conv, what flax does) vs impl='matmul'.

For each layer: jitted forward, and forward + backward (value_and_grad w.r.t. the
input and the parameters, random cotangent), median of several runs after warm-up;
speedup of 'matmul' over 'xla' and effective GFLOP/s (nominal multiply-adds x 2,
x 3 for forward + backward). A big f32 matmul gives the machine's reference peak.
Layers are those of DCGAN 32x32, width 64, batch 64, then the other zoo configs,
DCGAN 64x64 layers with 512 channels, and 2x2/4x4 maps with 512 channels.
"""

from __future__ import annotations

import math
import os
import sys
import time

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import (block, interleaved_medians,  # noqa: E402
                               markdown_table, timed)
from jaxgen import nn as jnn  # noqa: E402

BATCH = 64
UP = ((2, 2), (2, 2))     # PyTorch ConvTranspose2d(k=4, s=2, p=1) in lax terms.
DOWN = ((1, 1), (1, 1))   # PyTorch Conv2d(k=4, s=2, p=1).
IMPLS = ("xla", "matmul")

# (name, 'conv' | 'convT', input side, in channels, out channels, kernel, stride,
#  padding, extra module kwargs)
LAYERS = [
    ("G1 convT 1->4", "convT", 1, 100, 256, 4, 1, "VALID", {}),
    ("G2 convT 4->8", "convT", 4, 256, 128, 4, 2, UP, {}),
    ("G3 convT 8->16", "convT", 8, 128, 64, 4, 2, UP, {}),
    ("G4 convT 16->32", "convT", 16, 64, 3, 4, 2, UP, {}),
    ("D1 conv 32->16", "conv", 32, 3, 64, 4, 2, DOWN, {}),
    ("D2 conv 16->8", "conv", 16, 64, 128, 4, 2, DOWN, {}),
    ("D3 conv 8->4", "conv", 8, 128, 256, 4, 2, DOWN, {}),
    ("D4 conv 4->1 head", "conv", 4, 256, 1, 4, 1, "VALID", {}),
    ("convT SAME tk", "convT", 8, 128, 64, 4, 2, "SAME", {"transpose_kernel": True}),
    ("conv k4s2 SAME", "conv", 16, 64, 128, 4, 2, "SAME", {}),
    ("conv k3s1 SAME", "conv", 16, 64, 64, 3, 1, "SAME", {}),
    ("conv k1", "conv", 16, 128, 64, 1, 1, "SAME", {}),
    ("DCGAN64 convT 4->8", "convT", 4, 512, 256, 4, 2, UP, {}),
    ("DCGAN64 conv 8->4", "conv", 8, 256, 512, 4, 2, DOWN, {}),
    ("conv 4->2, 512 ch", "conv", 4, 512, 512, 4, 2, DOWN, {}),    # XLA's slow cases
    ("convT 2->4, 512 ch", "convT", 2, 512, 512, 4, 2, "SAME", {}),
]


def matmul_peak(n: int = 2048) -> float:
  """GFLOP/s of a jitted n x n x n f32 matmul."""
  a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
  f = jax.jit(jnp.matmul)
  return 2 * n ** 3 / timed(lambda: block(f(a, a)), repeats=5, warmup=2) / 1e9


def time_layer(kind: str, side: int, cin: int, cout: int, k: int, stride: int,
               padding, extra: dict) -> tuple[dict[str, tuple[float, float]], float]:
  """{impl: (forward, forward + backward) median seconds}, and the forward GFLOP."""
  keys = jax.random.split(jax.random.PRNGKey(0), 3)
  x = jax.random.normal(keys[0], (BATCH, side, side, cin))
  runs = {}
  for impl in IMPLS:
    cls = jnn.ConvTranspose if kind == "convT" else jnn.Conv
    layer = cls(cout, (k, k), strides=(stride, stride), padding=padding, impl=impl,
                **extra)
    params = layer.init(keys[1], x)
    out_shape = jax.eval_shape(layer.apply, params, x).shape
    cotangent = jax.random.normal(keys[2], out_shape)
    forward = jax.jit(layer.apply)
    # The cotangent is an argument, not a closure constant, so XLA cannot fold it.
    both = jax.jit(jax.value_and_grad(
        lambda p, x, ct, layer=layer: jnp.vdot(layer.apply(p, x), ct), argnums=(0, 1)))
    runs[impl] = (lambda f=forward, p=params: block(f(p, x)),
                  lambda f=both, p=params, ct=cotangent: block(f(p, x, ct)))
  # Nominal multiply-adds: every kernel tap at every output (conv) / input (convT) pixel.
  pixels = math.prod(x.shape[:-1] if kind == "convT" else out_shape[:-1])
  gflop = 2 * pixels * k * k * cin * cout / 1e9

  fns = [fn for impl in IMPLS for fn in runs[impl]]
  for fn in fns:   # warm-up: compile and run once
    fn()
  start = time.perf_counter()
  for fn in fns:
    fn()
  repeats = 3 if time.perf_counter() - start > 0.5 else 5
  times = list(interleaved_medians(dict(enumerate(fns)), repeats).values())
  return {impl: (times[2 * i], times[2 * i + 1]) for i, impl in enumerate(IMPLS)}, gflop


def main() -> str:
  peak = matmul_peak()
  rows = []
  for name, kind, side, cin, cout, k, stride, padding, extra in LAYERS:
    t, g = time_layer(kind, side, cin, cout, k, stride, padding, extra)
    (xf, xb), (mf, mb) = t["xla"], t["matmul"]
    rows.append([name, f"{side}x{side}x{cin} -> {cout}", round(g, 3),
                 xf * 1e3, mf * 1e3, xf / mf, xb * 1e3, mb * 1e3, xb / mb,
                 3 * g / xb, 3 * g / mb])
    print(f"  {name}: fwd {xf * 1e3:.2f} / {mf * 1e3:.2f} ms, "
          f"fwd+bwd {xb * 1e3:.2f} / {mb * 1e3:.2f} ms", file=sys.stderr, flush=True)
  header = ["layer", "input -> features", "GFLOP fwd", "fwd xla ms", "fwd matmul ms",
            "fwd x", "f+b xla ms", "f+b matmul ms", "f+b x", "f+b xla GFLOP/s",
            "f+b matmul GFLOP/s"]
  return (f"Batch {BATCH}, f32; jitted f32 2048^3 matmul: {peak:.0f} GFLOP/s."
          f"\n'x' = xla time / matmul time; medians of 5 interleaved calls (3 when one round "
          "of a layer's four calls takes over 0.5 s).\n\n" + markdown_table(header, rows))


if __name__ == "__main__":
  print(main())
