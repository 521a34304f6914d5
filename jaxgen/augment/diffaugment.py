"""DiffAugment (Zhao et al. 2020): differentiable augmentations of D's real and fake inputs.

The same policy (a comma-separated list of 'color', 'translation', 'cutout') is applied to
every batch the discriminator sees, real or generated, in both the D and the G update,
so G receives gradients through the augmentation. Each example draws its own random
parameters. The ops follow the authors' `DiffAugment_pytorch.py` for images in [-1, 1].
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from jaxgen.errors import ConfigError
from jaxgen.registry import Registry

Array = jax.Array
Augment = Callable[[Array, Array], Array]

AUGMENTS: Registry[Augment] = Registry("train.diffaug")


def _uniform(key: Array, x: Array) -> Array:
  return jax.random.uniform(key, (x.shape[0], 1, 1, 1), dtype=x.dtype)


@AUGMENTS.register("color")
def color(key: Array, x: Array) -> Array:
  """Random brightness (+-0.5), saturation (x0..2) and contrast (x0.5..1.5)."""
  k1, k2, k3 = jax.random.split(key, 3)
  x = x + (_uniform(k1, x) - 0.5)
  mean = jnp.mean(x, axis=3, keepdims=True)
  x = (x - mean) * (_uniform(k2, x) * 2) + mean
  mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
  return (x - mean) * (_uniform(k3, x) + 0.5) + mean


@AUGMENTS.register("translation")
def translation(key: Array, x: Array, ratio: float = 0.125) -> Array:
  """Shifts each image by up to `ratio` of its size in each direction, filling with 0."""
  b, h, w, _ = x.shape
  sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
  ky, kx = jax.random.split(key)
  dy = jax.random.randint(ky, (b,), -sh, sh + 1)
  dx = jax.random.randint(kx, (b,), -sw, sw + 1)
  padded = jnp.pad(x, ((0, 0), (sh, sh), (sw, sw), (0, 0)))

  def shift(image, oy, ox):
    return jax.lax.dynamic_slice(image, (sh - oy, sw - ox, 0), (h, w, x.shape[3]))

  return jax.vmap(shift)(padded, dy, dx)


@AUGMENTS.register("cutout")
def cutout(key: Array, x: Array, ratio: float = 0.5) -> Array:
  """Zeroes one square of `ratio` times the image size at a random position per image."""
  b, h, w, _ = x.shape
  ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
  ky, kx = jax.random.split(key)
  # The square's centre; as in the reference, it may hang over the border.
  cy = jax.random.randint(ky, (b, 1, 1), 0, h + (1 - ch % 2))
  cx = jax.random.randint(kx, (b, 1, 1), 0, w + (1 - cw % 2))
  rows = jnp.arange(h)[None, :, None]
  cols = jnp.arange(w)[None, None, :]
  inside = ((rows >= cy - ch // 2) & (rows < cy - ch // 2 + ch)
            & (cols >= cx - cw // 2) & (cols < cx - cw // 2 + cw))
  return x * (~inside)[..., None].astype(x.dtype)


def parse_policy(policy: str) -> tuple[str, ...]:
  """Splits 'color,translation' into names, checking each one (one-line error otherwise)."""
  names = tuple(p.strip() for p in policy.split(",") if p.strip())
  for name in names:
    AUGMENTS.get(name)
  return names


def diff_augment(policy: str | tuple[str, ...], key: Array, x: Array) -> Array:
  """Applies the policy's augmentations in order; the identity for an empty policy."""
  names = parse_policy(policy) if isinstance(policy, str) else policy
  if names and x.ndim != 4:
    raise ConfigError(f"train.diffaug needs image batches [B, H, W, C]; got shape {x.shape}")
  for name, k in zip(names, jax.random.split(key, max(len(names), 1))):
    x = AUGMENTS.get(name)(k, x)
  return x
