"""Spectral normalization (Miyato et al. 2018) as an optional wrapper around any layer.

This delegates to `flax.linen.SpectralNorm`: it divides every weight of rank >= 2
(a conv kernel reshaped to [window * in, out]) by its largest singular value, estimated
by power iteration whose vector `u` (and the estimate `sigma`) live in the
'batch_stats' collection. Training applies with `mutable=['batch_stats']` and
`train=True` to carry `u` forward; `train=False` runs the same iteration from the
stored `u` but leaves it unchanged, so evaluation is a pure function of the variables.
Note flax's `init` stores the kernel already divided by its one-step sigma estimate
(PyTorch keeps W at its init scale); the normalized layer is the same either way.
"""

from __future__ import annotations

import functools
from typing import Callable

import flax.linen as nn
import jax


def spectral_norm(layer: nn.Module, train: bool, enabled: bool = True,
                  n_steps: int = 1) -> Callable[..., jax.Array]:
  """`layer` with spectrally normalized weights when `enabled`, else `layer` itself.

  Call inside a compact method; the layer's params keep their usual names.
  """
  if not enabled:
    return layer
  return functools.partial(nn.SpectralNorm(layer, n_steps=n_steps), update_stats=train)


def spectral_sigmas(batch_stats: dict) -> dict[str, jax.Array]:
  """The current sigma estimate of every spectrally normalized weight, by path."""
  flat = {"/".join(str(getattr(k, "key", k)) for k in path): leaf
          for path, leaf in jax.tree_util.tree_flatten_with_path(batch_stats)[0]}
  return {path[:-len("/sigma")]: v for path, v in flat.items() if path.endswith("/sigma")}
