"""Mixture proportions under label shift: the Normalized-Wasserstein pieces shared by the
NW domain-adaptation trainer (and usable by any NW critic over class-conditional parts).

NW (Balaji, Chellappa & Feizi 2019) compares a target distribution with the source's
class-conditional parts re-mixed by learned proportions pi = softmax(logits):
NW = min_pi W(P_t, sum_k pi_k P_{s,k}). With a critic D, the source side of the Kantorovich
dual is sum_k pi_k E[D(F(x)) | y = k], estimated from a labelled batch by class means.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def class_means(values: jax.Array, labels: jax.Array,
                num_classes: int) -> tuple[jax.Array, jax.Array]:
  """(mean of `values` [B] per class [K], whether the class occurs in the batch [K])."""
  onehot = jax.nn.one_hot(labels, num_classes)  # [B, K]
  counts = jnp.sum(onehot, axis=0)
  means = (values @ onehot) / jnp.maximum(counts, 1.0)
  return means, counts > 0


def mixture_mean(values: jax.Array, labels: jax.Array, logits: jax.Array) -> jax.Array:
  """sum_k pi_k E[values | y = k] with pi = softmax(logits), renormalised over the classes
  present in the batch (a missing class has no estimate of its mean)."""
  means, present = class_means(values, labels, logits.shape[-1])
  pi = jax.nn.softmax(logits) * present
  return jnp.sum(pi * means) / jnp.maximum(jnp.sum(pi), 1e-12)


def proportion_error(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Total-variation distance between softmax(logits) and the label frequencies of a batch."""
  freq = jnp.mean(jax.nn.one_hot(labels, logits.shape[-1]), axis=0)
  return 0.5 * jnp.sum(jnp.abs(jax.nn.softmax(logits) - freq))
