"""StyleGAN2's building blocks (Karras et al. 2020): equalized learning rate, [1,3,3,1]
FIR resampling, modulated/demodulated convolution, minibatch standard deviation.

Follows NVlabs/stylegan2-ada-pytorch (training/networks.py, torch_utils/ops): weights
are stored ~ N(0, 1) (/ lr_mul) and scaled at run time by gain / sqrt(fan_in) * lr_mul.
Convolutions go through `jaxgen.nn.conv` (matmul-lowered on CPU); FIR filters are
separable shifted sums, so every op here supports reverse-mode autodiff of any order.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax
import numpy as np

from jaxgen import nn as jnn

FIR_TAPS = (1.0, 3.0, 3.0, 1.0)
LRELU_GAIN = math.sqrt(2.0)


def lrelu(x: jax.Array) -> jax.Array:
  """Leaky ReLU (slope 0.2) times sqrt(2), which keeps the signal's second moment."""
  return jax.nn.leaky_relu(x, 0.2) * LRELU_GAIN


def activate(x: jax.Array, activation: str) -> jax.Array:
  return lrelu(x) if activation == "lrelu" else x


def _fir_axis(x: jax.Array, axis: int, pads: tuple[int, int], gain: float,
              stride: int) -> jax.Array:
  """Pads `x` along `axis`, correlates it with the normalised FIR and keeps every
  `stride`-th output."""
  taps = np.asarray(FIR_TAPS) / sum(FIR_TAPS) * gain
  widths = [(0, 0)] * x.ndim
  widths[axis] = pads
  x = jnp.pad(x, widths)
  n = (x.shape[axis] - len(taps)) // stride + 1
  return sum(float(t) * lax.slice_in_dim(x, i, i + stride * (n - 1) + 1, stride, axis)
             for i, t in enumerate(taps))


def blur(x: jax.Array, pads: tuple[int, int], gain: float = 1.0, stride: int = 1):
  """2-D [1,3,3,1] FIR of NHWC maps (upfirdn2d with up=1), total gain `gain`."""
  g = math.sqrt(gain)
  return _fir_axis(_fir_axis(x, 1, pads, g, stride), 2, pads, g, stride)


def upsample2d(x: jax.Array) -> jax.Array:
  """2x upsampling: zero insertion, then the FIR with gain 4 (upfirdn2d.upsample2d)."""
  n, h, w, c = x.shape
  up = jnp.zeros((n, h, 2, w, 2, c), x.dtype).at[:, :, 0, :, 0].set(x)
  return blur(up.reshape(n, 2 * h, 2 * w, c), (2, 1), gain=4.0)


def downsample2d(x: jax.Array) -> jax.Array:
  """2x downsampling: the FIR, then every second pixel (upfirdn2d.downsample2d)."""
  return blur(x, (1, 1), stride=2)


class EqualDense(nn.Module):
  """Dense layer with equalized learning rate: y = x @ (W * lr_mul / sqrt(fan_in)) +
  b * lr_mul, with W ~ N(0, 1 / lr_mul^2) stored (FullyConnectedLayer)."""
  features: int
  lr_mul: float = 1.0
  bias_init: float = 0.0
  activation: str = "linear"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    fan_in = x.shape[-1]
    kernel = self.param("kernel", lambda k, s: jax.random.normal(k, s) / self.lr_mul,
                        (fan_in, self.features))
    bias = self.param("bias", nn.initializers.constant(self.bias_init), (self.features,))
    y = x @ (kernel * (self.lr_mul / math.sqrt(fan_in))) + bias * self.lr_mul
    return activate(y, self.activation)


class EqualConv(nn.Module):
  """Conv with equalized learning rate (Conv2dLayer); `down` = FIR blur, then stride 2."""
  features: int
  kernel_size: int = 3
  down: bool = False
  use_bias: bool = True
  activation: str = "linear"
  impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    k, cin = self.kernel_size, x.shape[-1]
    kernel = self.param("kernel", nn.initializers.normal(1.0), (k, k, cin, self.features))
    kernel = kernel / math.sqrt(cin * k * k)
    if self.down:  # conv2d_resample: pad (k - 1) // 2 + 1 each side, FIR, strided conv.
      p = (k - 1) // 2 + 1
      y = jnn.conv(blur(x, (p, p)), kernel, (2, 2), "VALID", impl=self.impl)
    else:
      y = jnn.conv(x, kernel, (1, 1), "SAME", impl=self.impl)
    if self.use_bias:
      y = y + self.param("bias", nn.initializers.zeros_init(), (self.features,))
    return activate(y, self.activation)


def demodulation(kernel: jax.Array, styles: jax.Array) -> jax.Array:
  """1 / ||W * s||_2 per sample and output channel [B, out] (StyleGAN2 eq. 3)."""
  energy = jnp.sum(jnp.square(kernel), axis=(0, 1))  # [in, out]
  return lax.rsqrt(jnp.square(styles) @ energy + 1e-8)


class ModulatedConv(nn.Module):
  """Conv whose input channels are scaled by styles = affine(w) per sample, and whose
  output channels are demodulated to unit norm (modulated_conv2d, fused_modconv=False:
  modulating x instead of W gives the same result without per-sample kernels)."""
  features: int
  kernel_size: int = 3
  demodulate: bool = True
  up: bool = False
  impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array, w: jax.Array) -> jax.Array:
    k, cin = self.kernel_size, x.shape[-1]
    styles = EqualDense(cin, bias_init=1.0, name="affine")(w)
    kernel = self.param("kernel", nn.initializers.normal(1.0), (k, k, cin, self.features))
    if not self.demodulate:  # ToRGB: the equalized-lr gain goes on the styles.
      styles = styles / math.sqrt(cin * k * k)
    x = x * styles[:, None, None, :]
    if self.up:  # Upsample, then convolve (the paper: transposed conv, then FIR).
      x = upsample2d(x)
    y = jnn.conv(x, kernel, (1, 1), "SAME", impl=self.impl)
    if self.demodulate:
      y = y * demodulation(kernel, styles)[:, None, None, :]
    return y


def minibatch_stddev(x: jax.Array, group_size: int, num_channels: int = 1) -> jax.Array:
  """Appends the std over groups of samples, averaged over features (MinibatchStdLayer).

  Sample n is in group n % (N / G); the group size G is the largest divisor of N that is
  at most `group_size`.
  """
  n, h, w, c = x.shape
  g = min(group_size, n)
  while n % g:
    g -= 1
  f = num_channels
  y = x.reshape(g, n // g, h, w, f, c // f).astype(jnp.float32)
  y = jnp.sqrt(jnp.var(y, axis=0) + 1e-8)       # [N/G, H, W, F, C/F]
  y = jnp.mean(y, axis=(1, 2, 4))               # [N/G, F]
  y = jnp.tile(y, (g, 1))[:, None, None, :]     # [N, 1, 1, F]
  return jnp.concatenate([x, jnp.broadcast_to(y, (n, h, w, f)).astype(x.dtype)], axis=-1)


def normalize_2nd_moment(x: jax.Array, eps: float = 1e-8) -> jax.Array:
  return x * lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + eps)
