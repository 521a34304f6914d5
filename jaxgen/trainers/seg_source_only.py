"""Segmentation adaptation: the source-only baseline and the parts LSD-seg shares with it.

`seg_source_only`: the FCN segmenter (jaxgen/models/segmentation.py) trained with the
per-pixel cross-entropy on the labelled source scenes; the target is only evaluated.
Batches come from the `scenes` dataset (jaxgen/data/scenes.py): source 'x', per-pixel
'y' [B, H, W] and target 'x_t' ('y_t' for evaluation only). `eval_metrics` gives the
source-validation mIoU (model selection) and the target mIoU of each evaluation batch;
the configs evaluate each split as one batch, so these are the splits' mIoUs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.metrics import segmentation as seg_metrics
from jaxgen.models.segmentation import Segmenter
from jaxgen.optim import make_optimizer
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.da_erm import DAState, apply_grads, classifier_trainer, cross_entropy, init_net


def check_dataset(spec: DataSpec) -> None:
  if spec.kind != "image" or spec.num_classes < 2:
    raise ConfigError(f"the segmentation trainers need images with per-pixel labels "
                      f"(dataset.name='scenes'), got {spec.name!r}")


def pixel_labels(y: jax.Array, logits: jax.Array) -> jax.Array:
  """Per-pixel labels [B, H, W]; a per-image label [B] (the evaluator's shape probe) is
  broadcast over the pixels."""
  return jnp.broadcast_to(y.reshape(y.shape + (1,) * (logits.ndim - 1 - y.ndim)),
                          logits.shape[:-1]).astype(jnp.int32)


class SegModel:
  """The segmenter of `config.segmentation` for `spec`: init and per-pixel logits."""

  def __init__(self, config: ml_collections.ConfigDict, spec: DataSpec):
    check_dataset(spec)
    self.config, self.spec = config, spec
    self.num_classes = spec.num_classes
    cfg = config.segmentation
    self.segmenter = Segmenter(spec.num_classes, cfg.width, cfg.conv_impl)

  def optimizer(self, net: str) -> optax.GradientTransformation:
    return make_optimizer(self.config.optim[net], self.config.train.num_steps)

  def init(self, key: jax.Array) -> dict:
    x = jnp.zeros((2,) + tuple(self.spec.shape))
    return {"f": init_net(self.segmenter, key, (x,), self.optimizer("f"))}


def segment(nets: dict, x: jax.Array, params=None) -> tuple[jax.Array, tuple]:
  """(logits [B, H, W, K], F's features) of the segmenter in `nets['f']`."""
  f = nets["f"]
  return f.apply_fn({"params": f.params if params is None else params}, x)


def _split_metrics(prefix: str, logits: jax.Array, y: jax.Array) -> Metrics:
  labels = pixel_labels(y, logits)
  confusion = seg_metrics.confusion_matrix(labels, jnp.argmax(logits, -1), logits.shape[-1])
  return {f"{prefix}_miou": seg_metrics.mean_iou(confusion),
          f"{prefix}_pixel_acc": seg_metrics.pixel_accuracy(confusion),
          f"{prefix}_loss": cross_entropy(logits, labels)}


def eval_metrics(state: DAState, batch: Batch, key: jax.Array) -> Metrics:
  """Source-validation mIoU from 'x', 'y'; target mIoU from 'x_t', 'y_t' when given."""
  del key
  metrics = _split_metrics("src_val", segment(state.nets, batch["x"])[0], batch["y"])
  if "x_t" in batch:
    metrics.update(_split_metrics("target", segment(state.nets, batch["x_t"])[0],
                                  batch["y_t"]))
  return metrics


@TRAINERS.register("seg_source_only")
def build_seg_source_only(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """The segmenter trained on the source labels alone."""
  model = SegModel(config, spec)

  def init(key: jax.Array) -> DAState:
    net_key, state_key = jax.random.split(key)
    return DAState(step=jnp.zeros((), jnp.int32), nets=model.init(net_key), key=state_key)

  def train_step(state: DAState, batch: Batch) -> tuple[DAState, Metrics]:
    x, y = batch["x"][0], batch["y"][0]  # batches_per_step = 1

    def loss_fn(params):
      logits = segment(state.nets, x, params)[0]
      return cross_entropy(logits, pixel_labels(y, logits))

    loss, grads = jax.value_and_grad(loss_fn)(state.nets["f"].params)
    nets = apply_grads(state.nets, {"f": grads})
    return state.replace(step=state.step + 1, nets=nets), {"seg_loss": loss}

  return classifier_trainer(spec, init, train_step, eval_metrics)
