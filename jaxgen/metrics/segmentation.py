"""Semantic-segmentation metrics from a confusion matrix: per-class IoU, mIoU, pixel accuracy.

Works on jax or numpy arrays (jit-safe). As FCN's `label_accuracy_score` (which LSD-seg
reports), mIoU averages the IoU of the classes that occur in the labels or predictions;
labels outside [0, num_classes) (e.g. 255 = void) are ignored.
"""

from __future__ import annotations

import jax.numpy as jnp


def confusion_matrix(labels, predictions, num_classes: int) -> jnp.ndarray:
  """int32 [K, K] pixel counts: row = true class, column = predicted class."""
  labels = jnp.asarray(labels).reshape(-1).astype(jnp.int32)
  predictions = jnp.asarray(predictions).reshape(-1).astype(jnp.int32)
  valid = (labels >= 0) & (labels < num_classes)
  index = jnp.where(valid, labels * num_classes + jnp.clip(predictions, 0, num_classes - 1), 0)
  counts = jnp.bincount(index, weights=valid.astype(jnp.int32), length=num_classes ** 2)
  return counts.astype(jnp.int32).reshape(num_classes, num_classes)


def iou_per_class(confusion) -> jnp.ndarray:
  """IoU = TP / (TP + FP + FN) per class; NaN for a class absent from labels and predictions."""
  c = jnp.asarray(confusion, jnp.float32)
  tp = jnp.diag(c)
  union = c.sum(0) + c.sum(1) - tp
  return jnp.where(union > 0, tp / jnp.where(union > 0, union, 1.0), jnp.nan)


def mean_iou(confusion) -> jnp.ndarray:
  """Mean of `iou_per_class` over the classes present (NaN-skipping)."""
  return jnp.nanmean(iou_per_class(confusion))


def pixel_accuracy(confusion) -> jnp.ndarray:
  """Share of valid pixels predicted right."""
  c = jnp.asarray(confusion, jnp.float32)
  return jnp.trace(c) / jnp.maximum(c.sum(), 1.0)
