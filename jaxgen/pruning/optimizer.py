"""An Optax wrapper that keeps pruned weights at exactly zero inside the jitted step.

`masked(inner)` zeroes the gradients before `inner` and the updates after it, with the
mask in its own state. A masked weight that is 0 stays 0, and moments that are 0 stay 0
(Adam's m and v see only zero gradients there). Because the mask lives in `opt_state`,
it is part of the train state: checkpointed by Orbax, replicated and vmappable.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxgen.errors import ConfigError
from jaxgen.pruning.early_bird import is_batchnorm_scale
from jaxgen.pruning.masks import Mask, apply_mask, ones_like, path_names


class MaskedState(NamedTuple):
  mask: Mask                 # bools shaped like the params; True = trainable weight
  inner_state: optax.OptState


def masked(inner: optax.GradientTransformation) -> optax.GradientTransformation:
  """`inner` restricted to the weights that `mask` keeps; the mask starts all True."""

  def init(params):
    return MaskedState(mask=ones_like(params), inner_state=inner.init(params))

  def update(updates, state, params=None):
    updates, inner_state = inner.update(apply_mask(updates, state.mask),
                                        state.inner_state, params)
    return apply_mask(updates, state.mask), MaskedState(state.mask, inner_state)

  return optax.GradientTransformation(init, update)


def bn_scale_l1(strength: float) -> optax.GradientTransformation:
  """Adds strength * sign(gamma) to the gradient of every BatchNorm scale gamma.

  The subgradient of strength * sum |gamma|: network slimming's sparsity regularisation
  (Liu et al. 2017, `updateBN`), which the early-bird search trains with (You et al.
  2020; their code's s = 1e-4). Other leaves pass unchanged.
  """
  def update(updates, state, params=None):
    if params is None:
      raise ValueError("bn_scale_l1 needs the params")
    add = lambda path, g, p: (g + strength * jnp.sign(p)
                              if is_batchnorm_scale(path_names(path), p) else g)
    return jax.tree_util.tree_map_with_path(add, updates, params), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def _is_masked_state(x: Any) -> bool:
  return isinstance(x, MaskedState)


def has_mask(opt_state: optax.OptState) -> bool:
  return any(_is_masked_state(x)
             for x in jax.tree.leaves(opt_state, is_leaf=_is_masked_state))


def _check(opt_state: optax.OptState) -> None:
  if not has_mask(opt_state):
    raise ConfigError("this optimizer keeps no pruning mask; set optim.<net>.masked=True "
                      "(jaxgen/optim.py wraps it in jaxgen.pruning.masked)")


def get_mask(opt_state: optax.OptState) -> Mask:
  """The mask held in `opt_state` (the first `MaskedState` in it)."""
  _check(opt_state)
  found = [x for x in jax.tree.leaves(opt_state, is_leaf=_is_masked_state)
           if _is_masked_state(x)]
  return found[0].mask


def _params_like(tree: Any, params: Any) -> bool:
  """Whether `tree` has the params' structure and shapes (e.g. Adam's m or v)."""
  try:
    if jax.tree.structure(tree) != jax.tree.structure(params):
      return False
  except Exception:  # noqa: BLE001  (unhashable or foreign nodes)
    return False
  return all(getattr(a, "shape", None) == getattr(b, "shape", None)
             for a, b in zip(jax.tree.leaves(tree), jax.tree.leaves(params)))


def set_mask(opt_state: optax.OptState, params: Any, mask: Mask) -> optax.OptState:
  """`opt_state` holding `mask`, with every params-shaped moment zeroed where masked.

  Zeroing the moments makes masking mid-training exact: no stale momentum moves a
  pruned weight, and the moments stay exactly 0 there from then on.
  """
  _check(opt_state)
  is_moment = lambda x: _params_like(x, params)

  def edit(node):
    if _is_masked_state(node):
      inner = jax.tree.map(lambda x: apply_mask(x, mask) if is_moment(x) else x,
                           node.inner_state, is_leaf=is_moment)
      return MaskedState(mask=mask, inner_state=inner)
    return node

  return jax.tree.map(edit, opt_state, is_leaf=_is_masked_state)
