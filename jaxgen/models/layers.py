"""Small building blocks shared by the model families."""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.errors import ConfigError

# 'spectral' normalizes weights (jaxgen.nn.spectral_norm), not activations; see feature_norm.
NORMS = ("batch", "layer", "none", "spectral")

# DCGAN (Radford et al. 2016): all weights ~ N(0, 0.02).
dcgan_kernel_init = nn.initializers.normal(0.02)


def _dcgan_scale_init(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
  """BatchNorm scale ~ N(1, 0.02), as in the DCGAN reference code."""
  return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def check_norm(kind: str, field: str) -> None:
  if kind not in NORMS:
    raise ConfigError(f"unknown {field} {kind!r}; choose one of: {', '.join(NORMS)}")


def feature_norm(kind: str, net: str) -> str:
  """The activation normalisation used with `model.{net}_norm=kind` (net 'g' or 'd').

  With 'spectral', a generator keeps BatchNorm (SAGAN, BigGAN) and a discriminator
  has none (SNGAN).
  """
  if kind != "spectral":
    return kind
  return "batch" if net == "g" else "none"


def normalization(kind: str, train: bool, dtype=None) -> Callable[[jax.Array], jax.Array]:
  """A normalisation layer by name; BatchNorm uses PyTorch's momentum and epsilon.

  `dtype` is the output's (statistics are reduced in float32 and kept in float32).
  """
  if kind == "batch":
    return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                        scale_init=_dcgan_scale_init, dtype=dtype)
  if kind == "layer":
    return nn.LayerNorm(dtype=dtype)
  return lambda x: x
