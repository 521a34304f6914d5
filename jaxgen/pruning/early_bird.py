"""Early-bird tickets (You et al. 2020), as the lottery-GAN paper uses them.

At intervals during training, a channel mask keeps the channels with the largest
BatchNorm scale magnitudes (one global threshold per network at a channel-pruning
ratio); the search
stops once the normalised Hamming distance from the current mask to each of the last
`lookback` masks is below `threshold` (5 and 0.1 in the paper). Weight-magnitude masks
are an option: any bool pytree works with `hamming_distance` and the search.
"""

from __future__ import annotations

from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.errors import ConfigError
from jaxgen.pruning.magnitude import magnitude_prune, prune_by_score
from jaxgen.pruning.masks import (Mask, Path, Prunable, everything, kernels, named_leaves,
                                  ones_like, path_string)

ChannelMask = dict[str, jax.Array]  # BatchNorm module path -> bool[channels]


def is_batchnorm_scale(path: Path, leaf: Any) -> bool:
  return bool(path) and path[-1] == "scale" and any(p.startswith("BatchNorm") for p in path)


def bn_scales(params: Any) -> dict[str, jax.Array]:
  """{module path: scale} of every BatchNorm in `params` (which may hold several nets)."""
  return {path_string(p[:-1]): leaf for p, leaf in named_leaves(params)
          if is_batchnorm_scale(p, leaf)}


def channel_mask(params: Any, ratio: float) -> ChannelMask:
  """Prunes the fraction `ratio` of all BatchNorm channels with the smallest |scale|."""
  scales = bn_scales(params)
  if not scales:
    raise ConfigError("early-bird channel masks need BatchNorm layers (model.g_norm / "
                      "model.d_norm = 'batch')")
  dense = {k: jnp.ones(v.shape, bool) for k, v in scales.items()}
  return prune_by_score(jax.tree.map(jnp.abs, scales), dense, ratio, prunable=everything)


def channel_mask_per_net(nets: dict[str, Any], ratio: float) -> ChannelMask:
  """`channel_mask` of each net on its own ({'g': G's params, 'd': D's params}).

  One threshold per network, as the early-bird paper prunes one network: the scales of
  G and D are not ranked against each other.
  """
  mask: ChannelMask = {}
  for name, params in nets.items():
    mask.update(channel_mask({name: params}, ratio))
  return mask


def weight_mask(params: Any, sparsity: float, prunable: Prunable = kernels) -> Mask:
  """The option of weight-magnitude early-bird masks: global magnitude pruning of `params`."""
  return magnitude_prune(params, ones_like(params), sparsity, prunable=prunable)


def _flat(mask: Any, prunable: Prunable | None) -> jax.Array:
  leaves = [jnp.ravel(m) for p, m in named_leaves(mask) if prunable is None or prunable(p, m)]
  return jnp.concatenate(leaves).astype(bool)


def hamming_distance(a: Mask, b: Mask, prunable: Prunable | None = None) -> jax.Array:
  """The fraction of entries where the masks differ (over `prunable` leaves; None = all)."""
  return jnp.mean(_flat(a, prunable) != _flat(b, prunable))


@flax.struct.dataclass
class EarlyBirdSearch:
  history: jax.Array   # bool [lookback, n]: the last masks, flattened, newest last
  seen: jax.Array      # int32: masks recorded so far
  threshold: float = flax.struct.field(pytree_node=False, default=0.1)
  prunable: Any = flax.struct.field(pytree_node=False, default=None)


def init_search(example: Mask, lookback: int = 5, threshold: float = 0.1,
                prunable: Prunable | None = None) -> EarlyBirdSearch:
  """An empty search over masks shaped like `example`."""
  n = int(_flat(example, prunable).size)
  return EarlyBirdSearch(history=jnp.zeros((lookback, n), bool),
                         seen=jnp.zeros((), jnp.int32), threshold=threshold,
                         prunable=prunable)


def search_step(search: EarlyBirdSearch, mask: Mask
                ) -> tuple[EarlyBirdSearch, jax.Array, jax.Array]:
  """Records `mask`; returns (search, found, distances to the previous masks).

  found is True when `lookback` earlier masks exist and all are within `threshold`.
  """
  flat = _flat(mask, search.prunable)
  distances = jnp.mean(search.history != flat[None], axis=1)
  lookback = search.history.shape[0]
  found = (search.seen >= lookback) & jnp.all(distances < search.threshold)
  history = jnp.concatenate([search.history[1:], flat[None]])
  return search.replace(history=history, seen=search.seen + 1), found, distances


def channel_density(mask: ChannelMask) -> float:
  """The fraction of BatchNorm channels kept."""
  flat = np.concatenate([np.ravel(np.asarray(m)) for m in mask.values()])
  return float(flat.mean())
