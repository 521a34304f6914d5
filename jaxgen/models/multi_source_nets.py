"""Networks and mask functions of the multi-source trainers (jaxgen/trainers/cmss.py, dmg.py).

CMSS's curriculum manager scores each source image; DMG's domain masks are one logit per
(source domain, feature unit), sampled as hard 0/1 masks with a straight-through gradient.
"""

from __future__ import annotations

import itertools

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.models.domain_nets import FeatureExtractor

SMOOTH = 1e-6  # DMG's smoothing of the soft IoU (models/supermasks.py of prithv1/DMG)


class CurriculumManager(nn.Module):
  """CMSS's curriculum manager: source image [B, H, W, C] -> score [B] (softmax = weights)."""
  width: int = 16
  feature_dim: int = 64
  impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    h = FeatureExtractor(self.width, self.feature_dim, self.impl)(x)
    return nn.Dense(1)(h)[:, 0]


class DomainMaskLogits(nn.Module):
  """DMG's mask logits [num_domains, units], initialised U(low, high) (the paper: U(0, 1))."""
  num_domains: int
  units: int
  low: float = 0.0
  high: float = 1.0

  @nn.compact
  def __call__(self) -> jax.Array:
    init = lambda key, shape: jax.random.uniform(key, shape, minval=self.low, maxval=self.high)
    return self.param("logits", init, (self.num_domains, self.units))


def straight_through_bernoulli(probs: jax.Array, key: jax.Array) -> jax.Array:
  """Hard 0/1 samples of Bernoulli(probs) forward; the gradient is that of `probs`."""
  hard = (jax.random.uniform(key, probs.shape) < probs).astype(probs.dtype)
  return probs + jax.lax.stop_gradient(hard - probs)


def soft_iou(p: jax.Array, q: jax.Array) -> jax.Array:
  """(sum p q + eps) / (sum p + q - p q + eps) of two soft masks."""
  intersection = jnp.sum(p * q)
  return (intersection + SMOOTH) / (jnp.sum(p + q - p * q) + SMOOTH)


def overlap_penalty(probs: jax.Array) -> jax.Array:
  """DMG's overlap penalty: mean soft IoU over the pairs of domains' masks [K, U]."""
  pairs = list(itertools.combinations(range(probs.shape[0]), 2))
  if not pairs:
    return jnp.zeros(())
  return sum(soft_iou(probs[i], probs[j]) for i, j in pairs) / len(pairs)


def hard_iou(probs: jax.Array) -> jax.Array:
  """Mean IoU of the thresholded (p > 0.5) masks over pairs of domains: a diagnostic."""
  masks = probs > 0.5
  pairs = list(itertools.combinations(range(probs.shape[0]), 2))
  if not pairs:
    return jnp.ones(())
  ious = [(jnp.sum(masks[i] & masks[j]) + SMOOTH) / (jnp.sum(masks[i] | masks[j]) + SMOOTH)
          for i, j in pairs]
  return sum(ious) / len(pairs)


def unseen_domain_mask(probs: jax.Array) -> jax.Array:
  """The mask of a domain seen in no training batch: the mean of the source masks' probs."""
  return jnp.mean(probs, axis=0)
