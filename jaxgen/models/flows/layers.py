"""Invertible layers: `layer(x, reverse=False) -> (y, logdet)` as Flax modules.

Every layer is a bijection with a tractable Jacobian. `forward(x) -> (z, log|det dz/dx|)`
and `inverse(z) -> x`; calling with reverse=True returns the inverse and the log-det of
the inverse map. Inputs are images [B, H, W, C] or vectors [B, D] (the last axis is the
channel axis; log-dets are summed over everything but the batch axis).
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import nn as jnn

Array = jax.Array
SCALES = ("sigmoid", "tanh", "exp")
MASKS = ("checkerboard", "channel")


class Invertible(nn.Module):
  """Base: `forward` and `inverse` wrap `__call__(x, reverse)`."""

  def forward(self, x: Array) -> tuple[Array, Array]:
    return self(x, reverse=False)

  def inverse(self, z: Array) -> Array:
    return self(z, reverse=True)[0]


def _spatial_size(x: Array) -> int:
  return int(np.prod(x.shape[1:-1]))


class ActNorm(Invertible):
  """Per-channel affine y = (x + loc) * exp(logscale) (Glow, Kingma & Dhariwal 2018).

  Data-dependent init: on the batch `init` sees, y has zero mean and unit variance per
  channel; loc and logscale are ordinary params afterwards.
  """

  @nn.compact
  def __call__(self, x: Array, reverse: bool = False) -> tuple[Array, Array]:
    axes = tuple(range(x.ndim - 1))
    loc = self.param("loc", lambda _: -jnp.mean(x, axis=axes))
    logscale = self.param(
        "logscale", lambda _: -jnp.log(jnp.std(x, axis=axes) + 1e-6))
    logdet = jnp.sum(logscale) * _spatial_size(x) * jnp.ones(x.shape[:1])
    if reverse:
      return x * jnp.exp(-logscale) - loc, -logdet
    return (x + loc) * jnp.exp(logscale), logdet


def _random_rotation(key: Array, c: int) -> Array:
  q, _ = jnp.linalg.qr(jax.random.normal(key, (c, c)))
  return q


class InvConv1x1(Invertible):
  """Invertible 1x1 convolution y = x W (Glow), W init as a random rotation.

  lu=True parametrises W = P L (U + diag(sign * exp(log_s))) with P and sign fixed at
  init, so log|det W| = sum(log_s) costs O(C).
  """
  lu: bool = False

  @nn.compact
  def __call__(self, x: Array, reverse: bool = False) -> tuple[Array, Array]:
    c = x.shape[-1]
    n = _spatial_size(x) * jnp.ones(x.shape[:1])
    if not self.lu:
      w = self.param("kernel", lambda key: _random_rotation(key, c))
      logdet = jnp.linalg.slogdet(w)[1] * n
    else:
      def lu_init(key):
        p, l, u = jax.scipy.linalg.lu(_random_rotation(key, c))
        s = jnp.diag(u)
        return dict(p=p, l=l, u=jnp.triu(u, 1), sign=jnp.sign(s), log_s=jnp.log(jnp.abs(s)))

      f = self.param("lu", lu_init)
      # P and sign are constants: projected back to a permutation and to +-1, so neither
      # an optimizer's weight decay nor a perturbation can change |det W|.
      perm = jax.nn.one_hot(jnp.argmax(jax.lax.stop_gradient(f["p"]), axis=-1), c)
      sign = jnp.where(jax.lax.stop_gradient(f["sign"]) >= 0, 1.0, -1.0)
      lower = jnp.tril(f["l"], -1) + jnp.eye(c)
      upper = jnp.triu(f["u"], 1) + jnp.diag(sign * jnp.exp(f["log_s"]))
      w = perm @ lower @ upper
      logdet = jnp.sum(f["log_s"]) * n
    if reverse:
      return x @ jnp.linalg.inv(w), -logdet
    return x @ w, logdet


class ZeroDense(nn.Module):
  """Dense or 3x3 conv output layer initialised at zero, so a coupling starts as identity."""
  features: int
  conv: bool
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, h: Array) -> Array:
    if self.conv:
      return jnn.Conv(self.features, (3, 3), kernel_init=nn.initializers.zeros,
                      impl=self.conv_impl)(h)
    return nn.Dense(self.features, kernel_init=nn.initializers.zeros)(h)


class CouplingNet(nn.Module):
  """s,t network: conv3x3-ReLU-conv1x1-ReLU-zero conv3x3 (Glow) or a ReLU MLP for vectors."""
  out_features: int
  hidden: int
  depth: int = 2
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, h: Array) -> Array:
    image = h.ndim == 4
    for i in range(self.depth):
      if image:
        k = 3 if i == 0 else 1
        h = jnn.Conv(self.hidden, (k, k), impl=self.conv_impl)(h)
      else:
        h = nn.Dense(self.hidden)(h)
      h = nn.relu(h)
    return ZeroDense(self.out_features, image, self.conv_impl)(h)


def checkerboard(shape: Sequence[int], parity: int) -> Array:
  """1 on pixels with (i + j + parity) even, for images [H, W, C] (vectors: alternate dims)."""
  if len(shape) == 1:
    return jnp.asarray((np.arange(shape[0]) + parity) % 2 == 0, jnp.float32)
  h, w, c = shape
  grid = (np.arange(h)[:, None] + np.arange(w)[None, :] + parity) % 2 == 0
  return jnp.asarray(np.broadcast_to(grid[..., None], (h, w, c)), jnp.float32)


def _scale(raw: Array, kind: str, tanh_scale: Array | None) -> tuple[Array, Array]:
  """(scale, log scale) from the network output: bounded for stable training."""
  if kind == "sigmoid":  # Glow: s = sigmoid(h + 2), starts near 0.88 and stays in (0, 1)
    log_s = jax.nn.log_sigmoid(raw + 2.0)
  elif kind == "tanh":   # RealNVP: log s = a * tanh(h) with a learned per-channel a
    log_s = tanh_scale * jnp.tanh(raw)
  else:
    log_s = raw
  return jnp.exp(log_s), log_s


class Coupling(Invertible):
  """Affine (RealNVP, Glow) or additive (NICE) coupling.

  mask='channel' splits the channels in halves (Glow's split; `parity` picks which half
  conditions the other); mask='checkerboard' keeps x*m and transforms x*(1-m) (RealNVP).
  y_b = x_b * s(x_a) + t(x_a); additive: s = 1. An optional `context` (same leading
  shape) is concatenated to the network's input: a conditional coupling (Flow++'s q(u|x)).
  """
  mask: str = "channel"
  parity: int = 0
  hidden: int = 64
  depth: int = 2
  additive: bool = False
  scale: str = "sigmoid"
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: Array, reverse: bool = False,
               context: Array | None = None) -> tuple[Array, Array]:
    if self.mask not in MASKS:
      raise ValueError(f"unknown coupling mask {self.mask!r}; choose one of: {', '.join(MASKS)}")
    if self.scale not in SCALES:
      raise ValueError(f"unknown coupling scale {self.scale!r}; choose one of: "
                       f"{', '.join(SCALES)}")
    c = x.shape[-1]
    if self.mask == "channel":
      half = c // 2
      a, b = (x[..., :half], x[..., half:]) if self.parity == 0 else (x[..., c - half:],
                                                                        x[..., :c - half])
      cond, m = a, None
      out_c = b.shape[-1]
    else:
      m = checkerboard(x.shape[1:], self.parity)
      cond, b = x * m, x
      out_c = c
    if context is not None:
      cond = jnp.concatenate([cond, context], -1)
    net_out = CouplingNet(out_c * (1 if self.additive else 2), self.hidden, self.depth,
                          self.conv_impl)(cond)
    if self.additive:
      t, log_s, s = net_out, jnp.zeros_like(net_out), None
    else:
      t, raw = net_out[..., :out_c], net_out[..., out_c:]
      tanh_scale = (self.param("tanh_scale", nn.initializers.ones, (out_c,))
                    if self.scale == "tanh" else None)
      s, log_s = _scale(raw, self.scale, tanh_scale)
    if m is not None:  # only the unmasked positions are transformed
      t, log_s = t * (1 - m), log_s * (1 - m)
      s = None if s is None else jnp.exp(log_s)
    logdet = jnp.sum(log_s.reshape(x.shape[0], -1), axis=-1)
    if reverse:
      b = b - t if s is None else (b - t) / s
    else:
      b = b + t if s is None else b * s + t
    if m is not None:
      y = b
    else:
      y = jnp.concatenate([a, b], -1) if self.parity == 0 else jnp.concatenate([b, a], -1)
    return y, -logdet if reverse else logdet


class Squeeze(Invertible):
  """[B, H, W, C] -> [B, H/2, W/2, 4C] by 2x2 space-to-depth (RealNVP); volume preserving."""

  def __call__(self, x: Array, reverse: bool = False) -> tuple[Array, Array]:
    b, h, w, c = x.shape
    if reverse:
      y = x.reshape(b, h, w, 2, 2, c // 4).transpose(0, 1, 3, 2, 4, 5)
      return y.reshape(b, 2 * h, 2 * w, c // 4), jnp.zeros((b,))
    y = x.reshape(b, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(b, h // 2, w // 2, 4 * c), jnp.zeros((b,))


class FactorOut(nn.Module):
  """Multi-scale split: half the channels leave as latents (RealNVP, Glow).

  `forward(x) -> (h, eps, logdet)`: with a learned conditional prior (Glow),
  z ~ N(mu(h), exp(logsig(h))^2) is whitened to eps = (z - mu) exp(-logsig), logdet
  -sum(logsig), so every latent of the model is N(0, I); without it eps = z.
  `inverse(h, eps) -> x`.
  """
  learned_prior: bool = True
  conv_impl: str = "auto"

  def _prior(self, h: Array, c: int) -> tuple[Array, Array]:
    out = ZeroDense(2 * c, True, self.conv_impl, name="prior")(h)
    return out[..., :c], out[..., c:]

  @nn.compact
  def __call__(self, x: Array, eps: Array | None = None, reverse: bool = False):
    if reverse:
      h = x
      c = eps.shape[-1]
      if self.learned_prior:
        mu, logsig = self._prior(h, c)
        z = eps * jnp.exp(logsig) + mu
      else:
        z = eps
      return jnp.concatenate([h, z], -1)
    c = x.shape[-1] // 2
    h, z = x[..., :c], x[..., c:]
    if not self.learned_prior:
      return h, z, jnp.zeros(x.shape[:1])
    mu, logsig = self._prior(h, z.shape[-1])
    eps = (z - mu) * jnp.exp(-logsig)
    return h, eps, -jnp.sum(logsig.reshape(x.shape[0], -1), axis=-1)

  def forward(self, x: Array):
    return self(x)

  def inverse(self, h: Array, eps: Array) -> Array:
    return self(h, eps, reverse=True)
