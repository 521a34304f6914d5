"""Baselines a lottery ticket must beat: random pruning, SNIP and GraSP.

SNIP and GraSP take any scalar loss of the params (for a GAN, `objectives.gan_objective`);
the scores cover every leaf, and only the prunable leaves are ranked.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.pruning.magnitude import prune_by_score, prune_lowest
from jaxgen.pruning.masks import Mask, Prunable, kernels, named_leaves, ones_like

LossFn = Callable[[Any], jax.Array]


def random_like(mask: Mask, key: jax.Array, prunable: Prunable = kernels) -> Mask:
  """A uniformly random mask with the same number of pruned weights in every prunable layer."""
  pairs = named_leaves(mask)
  new = []
  for i, (path, m) in enumerate(pairs):
    if not prunable(path, m):
      new.append(m)
      continue
    size = int(np.size(m))
    scores = jax.random.uniform(jax.random.fold_in(key, i), (size,))
    n = size - int(np.sum(np.asarray(m)))
    new.append(prune_lowest(scores, jnp.ones(size, bool), n).reshape(np.shape(m)))
  return jax.tree.unflatten(jax.tree.structure(mask), new)


def snip_scores(loss_fn: LossFn, params: Any) -> Any:
  """Connection sensitivity |dL/dw * w| (Lee et al. 2019), unnormalised (ranks are the same)."""
  grads = jax.grad(loss_fn)(params)
  return jax.tree.map(lambda g, w: jnp.abs(g * w), grads, params)


def hessian_gradient_product(loss_fn: LossFn, params: Any,
                             prunable: Prunable = kernels) -> Any:
  """H g over the prunable leaves, by differentiating g . stop_grad(g) (the GraSP code's trick).

  As in Wang et al.'s code, g and H cover only the prunable weights (biases and norms
  are held out); the result is zero on the other leaves.
  """
  grad_fn = jax.grad(loss_fn)
  chosen = [prunable(p, leaf) for p, leaf in named_leaves(params)]
  g = jax.lax.stop_gradient(grad_fn(params))

  def g_dot(p):
    pairs = zip(jax.tree.leaves(grad_fn(p)), jax.tree.leaves(g), chosen)
    return sum((jnp.vdot(a, b) for a, b, c in pairs if c), jnp.zeros(()))

  hg = jax.grad(g_dot)(params)
  return jax.tree.unflatten(jax.tree.structure(hg), [
      h if c else jnp.zeros_like(h) for h, c in zip(jax.tree.leaves(hg), chosen)])


def grasp_scores(loss_fn: LossFn, params: Any, prunable: Prunable = kernels) -> Any:
  """GraSP's S(-w) = -w * Hg (Wang et al. 2020); the weights with the highest S are removed."""
  hg = hessian_gradient_product(loss_fn, params, prunable)
  return jax.tree.map(lambda w, h: -w * h, params, hg)


def snip_mask(loss_fn: LossFn, params: Any, sparsity: float, *, mask: Mask | None = None,
              layerwise: bool = False, prunable: Prunable = kernels) -> Mask:
  """Single-shot SNIP at `sparsity`: prunes the lowest connection sensitivities."""
  mask = ones_like(params) if mask is None else mask
  scores = jax.jit(lambda w: snip_scores(loss_fn, w))(params)  # one compile, not op by op
  return prune_by_score(scores, mask, sparsity, layerwise=layerwise, prunable=prunable)


def grasp_mask(loss_fn: LossFn, params: Any, sparsity: float, *, mask: Mask | None = None,
               layerwise: bool = False, prunable: Prunable = kernels) -> Mask:
  """Single-shot GraSP at `sparsity`: prunes the highest S(-w), i.e. the lowest w * Hg."""
  mask = ones_like(params) if mask is None else mask
  keep_scores = jax.jit(lambda w: jax.tree.map(
      jnp.negative, grasp_scores(loss_fn, w, prunable)))(params)
  return prune_by_score(keep_scores, mask, sparsity, layerwise=layerwise, prunable=prunable)
