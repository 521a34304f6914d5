"""Channel tickets: an early-bird channel mask made into a physically narrower DCGAN.

A BatchNorm channel mask over {'g', 'd'} (`early_bird.channel_mask`) names the channels
each hidden conv keeps. `shrunk_config` gives the narrower model (`model.g_channels` /
`model.d_channels`) and `slice_state` the dense weights restricted to the kept channels:
conv kernels lose pruned input and output channels, biases, BatchNorm scales and biases
and running statistics their pruned entries. D's first conv has no BatchNorm (DCGAN), so
all its channels stay. The narrow net computes what the dense net computes with the
pruned channels' BatchNorm scale and bias at 0 (those activations are then 0).
"""

from __future__ import annotations

from typing import Any

import flax
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.models import dcgan
from jaxgen.pruning.early_bird import ChannelMask

Kept = dict[str, np.ndarray]  # BatchNorm path ('g/BatchNorm_0') -> sorted kept channels

SUPPORTED = ("early-bird channel tickets support model.name='dcgan' with "
             "model.g_norm='batch', model.d_norm='batch' and model.cond '' or 'concat'")
# Per net: the conv layers' name and the offset of the BatchNorm after hidden conv i
# (G: ConvTranspose_i -> BatchNorm_i; D: Conv_i -> BatchNorm_{i-1}, none after Conv_0).
_NETS = {"g": ("ConvTranspose", 0), "d": ("Conv", 1)}


def check_supported(model: ml_collections.ConfigDict) -> None:
  """Raises a one-line ValueError unless `model` is a DCGAN that channel tickets handle."""
  got = {"name": model.name, "g_norm": model.g_norm, "d_norm": model.d_norm,
         "cond": model.cond}
  if (got["name"] != "dcgan" or got["g_norm"] != "batch" or got["d_norm"] != "batch"
      or got["cond"] not in ("", "concat")):
    raise ConfigError(f"{SUPPORTED}; got " + ", ".join(f"model.{k}={v!r}"
                                                       for k, v in got.items()))


def kept_channels(mask: ChannelMask, scales: dict[str, Any] | None = None) -> Kept:
  """The kept channel indices per BatchNorm path, at least one per layer.

  A layer the mask empties keeps its channel of largest |scale| (channel 0 without
  `scales`), so the narrow net stays connected.
  """
  kept = {}
  for path, m in mask.items():
    idx = np.flatnonzero(np.asarray(m, bool))
    if idx.size == 0:
      idx = np.array([int(np.argmax(np.abs(np.asarray(scales[path]))))] if scales else [0])
    kept[path] = idx
  return kept


def _hidden_keeps(kept: Kept, net: str, n: int) -> list[np.ndarray | None]:
  """Kept output channels of each of the n hidden convs of `net`; None = all."""
  _, offset = _NETS[net]
  keeps = []
  for i in range(n):
    path = f"{net}/BatchNorm_{i - offset}"
    if i < offset:
      keeps.append(None)
    elif path not in kept:
      raise ValueError(f"the channel mask has no entry for {path!r}; it must come from "
                       "early_bird.channel_mask of {'g': G's params, 'd': D's params}")
    else:
      keeps.append(kept[path])
  return keeps


def shrunk_config(config: ml_collections.ConfigDict, kept: Kept,
                  spec: DataSpec) -> ml_collections.ConfigDict:
  """A copy of `config` whose DCGAN has only the kept channels (model.g/d_channels)."""
  check_supported(config.model)
  config = ml_collections.ConfigDict(config.to_dict())
  for net, counts in zip(("g", "d"), dcgan.channel_counts(config.model, spec)):
    keeps = _hidden_keeps(kept, net, len(counts))
    for keep, count in zip(keeps, counts):
      if keep is not None and (keep.max() >= count or keep.min() < 0):
        raise ConfigError(f"the channel mask of model.{net}_channels={list(counts)} keeps "
                          f"channel {int(keep.max())}: it was made for another model")
    config.model[f"{net}_channels"] = tuple(
        c if k is None else int(k.size) for k, c in zip(keeps, counts))
  return config


def _take(x: Any, idx: np.ndarray | None, axis: int) -> np.ndarray:
  x = np.asarray(x)
  return x if idx is None else np.take(x, idx, axis=axis)


def slice_net(params: Any, batch_stats: Any, kept: Kept, net: str) -> tuple[dict, dict]:
  """One DCGAN net's params and BatchNorm statistics restricted to the kept channels."""
  conv, offset = _NETS[net]
  params = flax.core.unfreeze(jax.tree.map(np.asarray, params))
  stats = flax.core.unfreeze(jax.tree.map(np.asarray, batch_stats))
  n = sum(name.startswith(conv + "_") for name in params) - 1  # hidden convs
  keeps = _hidden_keeps(kept, net, n)
  for i in range(n + 1):
    ins, outs = (keeps[i - 1] if i else None), (keeps[i] if i < n else None)
    layer = params[f"{conv}_{i}"]
    layer["kernel"] = _take(_take(layer["kernel"], ins, -2), outs, -1)
    if "bias" in layer:
      layer["bias"] = _take(layer["bias"], outs, 0)
    if offset <= i < n:
      norm = f"BatchNorm_{i - offset}"
      for tree in (params[norm], stats[norm]):
        for name in tree:
          tree[name] = _take(tree[name], outs, 0)
  return params, stats


def slice_state(state: Any, kept: Kept) -> dict[str, Any]:
  """A dense GAN state's weights for the narrow model: {'g': (params, stats), 'd': ...}.

  With an EMA of G ('g_ema'), that is sliced like G's params.
  """
  out = {net: slice_net(getattr(state, net).params, getattr(state, net).batch_stats,
                        kept, net) for net in ("g", "d")}
  if state.g_ema:
    out["g_ema"] = slice_net(state.g_ema, state.g.batch_stats, kept, "g")[0]
  return out


def _check_shapes(new: Any, like: Any, what: str) -> None:
  shapes = lambda tree: jax.tree.map(np.shape, flax.core.unfreeze(tree))
  if shapes(new) != shapes(like):
    raise ValueError(f"the sliced {what} do not fit the narrow model: build it with "
                     "channels.shrunk_config from the same channel mask")


def load_sliced(state: Any, sliced: dict[str, Any]) -> Any:
  """A fresh narrow GAN state with the sliced weights (its optimizer state stays fresh)."""
  nets = {}
  for net in ("g", "d"):
    old = getattr(state, net)
    params, stats = sliced[net]
    _check_shapes(params, old.params, f"{net} params")
    _check_shapes(stats, old.batch_stats, f"{net} BatchNorm statistics")
    nets[net] = old.replace(params=jax.tree.map(jnp.asarray, params),
                            batch_stats=jax.tree.map(jnp.asarray, stats))
  if "g_ema" in sliced and state.g_ema:
    nets["g_ema"] = jax.tree.map(jnp.asarray, sliced["g_ema"])
  return state.replace(**nets)
