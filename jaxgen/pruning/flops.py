"""FLOPs of conv and dense layers per example, dense and under weight or channel masks.

Layers are found by tracing one forward pass (shapes only) with a Flax method
interceptor. MACs per example: a conv, prod(output spatial) * kernel size; a transposed
conv, prod(input spatial) * kernel size (the convention of ptflops/thop); a dense layer,
prod(non-batch, non-feature input dims) * kernel size. FLOPs = 2 MACs; normalisation,
activations and biases are left out. A training step (forward + backward) costs about
3 forwards.
"""

from __future__ import annotations

import inspect
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import nn as jnn
from jaxgen.pruning.early_bird import ChannelMask
from jaxgen.pruning.masks import Mask, Path, path_string

_CONVS = (nn.Conv, jnn.Conv)
_TRANSPOSED = (nn.ConvTranspose, jnn.ConvTranspose)


class Layer(NamedTuple):
  path: Path                       # module path, e.g. ('ConvTranspose_0',)
  kind: str                        # conv | conv_transpose | dense | batchnorm
  kernel_shape: tuple[int, ...]    # (*window, in, out); () for batchnorm
  macs: int                        # dense multiply-accumulates per example


def _lookup(tree: Any, path: Path) -> Any:
  for name in path:
    tree = tree[name]
  return tree


def trace_layers(module: nn.Module, variables: dict, *args, **kwargs) -> list[Layer]:
  """The conv/dense/BatchNorm layers of `module.apply(variables, *args)` in call order.

  Pass inputs with a batch of 1; nothing is computed (shapes only).
  """
  layers: list[Layer] = []

  def record(next_fun, call_args, call_kwargs, context):
    out = next_fun(*call_args, **call_kwargs)
    mod = context.module
    if context.method_name != "__call__":
      return out
    if isinstance(mod, nn.BatchNorm):
      layers.append(Layer(tuple(mod.path), "batchnorm", (), 0))
    elif isinstance(mod, _CONVS + _TRANSPOSED + (nn.Dense,)):
      kernel = tuple(mod.variables["params"]["kernel"].shape)
      x = call_args[0]
      if isinstance(mod, _TRANSPOSED):
        kind, positions = "conv_transpose", np.prod(x.shape[1:-1])
      elif isinstance(mod, _CONVS):
        kind, positions = "conv", np.prod(out.shape[1:-1])
      else:
        kind, positions = "dense", np.prod(x.shape[1:-1])
      layers.append(Layer(tuple(mod.path), kind, kernel, int(positions) * int(np.prod(kernel))))
    return out

  with nn.intercept_methods(record):
    jax.eval_shape(lambda v: module.apply(v, *args, **kwargs), variables)
  return layers


def _kernel_mask(mask: Mask, path: Path) -> Any:
  try:
    return _lookup(mask, path)["kernel"]
  except (KeyError, TypeError) as e:
    raise ValueError(f"the mask has no kernel for layer {path_string(path)!r}") from e


def _channel_keep(layers: list[Layer], channel_mask: ChannelMask | None,
                  prefix: str) -> list[tuple[np.ndarray | None, np.ndarray | None]]:
  """(input keep, output keep) channel flags per layer, for a sequential network.

  A BatchNorm's mask removes the output channels of the conv before it and the input
  channels of the conv after it.
  """
  flags: list[list[Any]] = [[None, None] for _ in layers]
  if not channel_mask:
    return flags
  last_conv = None
  pending = None
  for i, layer in enumerate(layers):
    if layer.kind == "batchnorm":
      m = channel_mask.get(prefix + path_string(layer.path))
      if m is not None:
        m = np.asarray(m, bool)
        if last_conv is not None:
          flags[last_conv][1] = m
        pending = m
    else:
      flags[i][0], pending, last_conv = pending, None, i
  return flags


def _kept_fraction(layer: Layer, kernel_mask: Any, keep_in: Any, keep_out: Any) -> float:
  keep = (np.ones(layer.kernel_shape, bool) if kernel_mask is None
          else np.asarray(kernel_mask, bool))
  c_in, c_out = layer.kernel_shape[-2:]
  if keep_in is not None:
    # A dense layer after a flatten sees channels-last features: channel = index % C.
    keep_in = np.resize(keep_in, c_in) if c_in % keep_in.size == 0 else None
  if keep_in is not None:
    keep = keep & keep_in[:, None]
  if keep_out is not None:
    keep = keep & keep_out
  return float(keep.mean())


def forward_flops(layers: list[Layer], mask: Mask | None = None,
                  channel_mask: ChannelMask | None = None, prefix: str = "") -> float:
  """FLOPs of one forward pass per example; each layer scaled by its kept fraction.

  `mask` is the net's weight mask (params structure); `channel_mask` is keyed by
  BatchNorm path, with `prefix` (e.g. 'g/') when it covers several nets.
  """
  flags = _channel_keep(layers, channel_mask, prefix)
  total = 0.0
  for layer, (keep_in, keep_out) in zip(layers, flags):
    if layer.kind == "batchnorm":
      continue
    kernel_mask = None if mask is None else _kernel_mask(mask, layer.path)
    total += 2 * layer.macs * _kept_fraction(layer, kernel_mask, keep_in, keep_out)
  return total


def net_layers(net: Any, *inputs: jax.Array) -> list[Layer]:
  """The layers of a TrainState's network (`net.apply_fn`'s module) on `inputs`: called as
  module(*inputs, train=False), or as module(inputs[0]) when it takes no `train` (flows)."""
  module = getattr(net.apply_fn, "__self__", None)
  if not isinstance(module, nn.Module):
    raise ValueError("net.apply_fn must be a bound `module.apply` to count FLOPs")
  variables = {"params": net.params}
  if getattr(net, "batch_stats", None):
    variables["batch_stats"] = net.batch_stats
  if "train" not in inspect.signature(module.__call__).parameters:
    return trace_layers(module, variables, inputs[0])  # module(x), e.g. a flow's forward
  return trace_layers(module, variables, *inputs, train=False)


def gan_layers(state: Any, latent_dim: int, data_shape: tuple[int, ...]
               ) -> dict[str, list[Layer]]:
  """{'g': layers, 'd': layers} of a GAN state, for one example."""
  z = jnp.zeros((1, latent_dim))
  y = jnp.zeros((1,), jnp.int32)
  x = jnp.zeros((1,) + tuple(data_shape))
  return {"g": net_layers(state.g, z, y), "d": net_layers(state.d, x, y)}


def gan_step_flops(g_forward: float, d_forward: float, n_critic: int = 1) -> float:
  """FLOPs per example of one GAN train step, with backward ~ 2 forwards.

  Each critic step: G forward, D forward + backward on a real and a fake batch; the
  generator step: G and D forward + backward.
  """
  return n_critic * (g_forward + 2 * 3 * d_forward) + 3 * (g_forward + d_forward)
