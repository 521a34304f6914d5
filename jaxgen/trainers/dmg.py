"""DMG (Chattopadhyay, Balaji, Hoffman, ECCV 2020): domain-specific masks for generalization.

Each source domain k has one logit per unit of F's features; in training a sample of
domain k passes C(m * F(x)) with m ~ Bernoulli(sigmoid(logits_k)) hard 0/1, gradient
straight through to the probabilities. Loss: CE + dmg.overlap_weight * mean pairwise
soft IoU of the domains' probabilities (+ dmg.sparsity_weight * their sum). Evaluation:
a seen domain uses its own probabilities (softscale) or their 0.5 threshold (greedy);
an unseen domain uses the mean of the source probabilities (prithv1/DMG's
avg_mask_softscale). The target is never used in training.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections

from jaxgen.data import DataSpec
from jaxgen.data.multi_source import source_names
from jaxgen.models.multi_source_nets import (DomainMaskLogits, hard_iou, overlap_penalty,
                                             straight_through_bernoulli, unseen_domain_mask)
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.da_erm import (Classifier, DAState, accuracy, classifier_trainer,
                                    cross_entropy, init_net, joint_gradient_step)


def mask_probs(nets: dict, params: dict | None = None) -> jax.Array:
  """sigmoid of the mask logits: [num_domains, feature units]."""
  p = nets["m"].params if params is None else params
  return jax.nn.sigmoid(nets["m"].apply_fn({"params": p}))


def masked_logits(nets: dict, x: jax.Array, mask: jax.Array,
                  params: dict | None = None) -> jax.Array:
  """C(mask * F(x)); `mask` is [B, units] or [units]."""
  p = params or {}
  h = nets["f"].apply_fn({"params": p.get("f", nets["f"].params)}, x)
  return nets["c"].apply_fn({"params": p.get("c", nets["c"].params)}, mask * h)


def seen_domain_mask(probs: jax.Array, domains: jax.Array, mode: str) -> jax.Array:
  """Each example's own domain mask at evaluation: probabilities or their 0.5 threshold."""
  p = probs[domains]
  return p if mode == "softscale" else (p > 0.5).astype(p.dtype)


@TRAINERS.register("dmg")
def build_dmg(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """DMG: F, C and the per-domain mask logits 'm' trained on the labelled sources."""
  model = Classifier(config, spec)
  num_sources = len(source_names(config.dataset))
  masks = DomainMaskLogits(num_sources, config.da.feature_dim, config.dmg.init_low,
                           config.dmg.init_high)

  def init(key: jax.Array) -> DAState:
    net_key, m_key, state_key = jax.random.split(key, 3)
    nets = model.init(net_key)
    nets["m"] = init_net(masks, m_key, (), model.optimizer("m"))
    return DAState(step=jnp.zeros((), jnp.int32), nets=nets, key=state_key)

  def train_step(state: DAState, batch: Batch) -> tuple[DAState, Metrics]:
    xs, ys, ds = batch["x"][0], batch["y"][0], batch["d"][0]
    key = jax.random.fold_in(state.key, state.step)
    nets = state.nets

    def loss_fn(params):
      probs = mask_probs(nets, params["m"])
      mask = straight_through_bernoulli(probs[ds], key)
      logits = masked_logits(nets, xs, mask, params)
      cls = cross_entropy(logits, ys)
      overlap = overlap_penalty(probs)
      sparsity = jnp.sum(probs)
      loss = cls + config.dmg.overlap_weight * overlap + config.dmg.sparsity_weight * sparsity
      return loss, {"class_loss": cls, "overlap_soft_iou": overlap, "train_acc":
                    accuracy(logits, ys), "mask_density": jnp.mean(probs > 0.5),
                    "overlap_hard_iou": hard_iou(probs), "mask_prob_mean": jnp.mean(probs)}

    return joint_gradient_step(state, loss_fn, ("f", "c", "m"))

  def eval_metrics(state: DAState, batch: Batch, key: jax.Array) -> Metrics:
    """Source validation with each domain's own mask; the unseen target with the mean mask."""
    del key
    probs = mask_probs(state.nets)
    unseen = unseen_domain_mask(probs)
    if "d" in batch:
      own = seen_domain_mask(probs, batch["d"], config.dmg.eval_mode)
    else:  # e.g. metric_names' shape-only batch
      own = unseen
    logits = masked_logits(state.nets, batch["x"], own)
    metrics = {"src_val_acc": accuracy(logits, batch["y"]),
               "src_val_loss": cross_entropy(logits, batch["y"]),
               "src_val_acc_mean_mask": accuracy(masked_logits(state.nets, batch["x"], unseen),
                                                 batch["y"])}
    if "x_t" in batch:
      t_logits = masked_logits(state.nets, batch["x_t"], unseen)
      # prithv1/DMG's other rule: average the predictions under each source's mask.
      ensemble = jnp.mean(jnp.stack([
          jax.nn.softmax(masked_logits(state.nets, batch["x_t"], probs[k]))
          for k in range(num_sources)]), 0)
      metrics.update(target_acc=accuracy(t_logits, batch["y_t"]),
                     target_loss=cross_entropy(t_logits, batch["y_t"]),
                     target_acc_mask_ensemble=accuracy(ensemble, batch["y_t"]))
    return metrics

  return classifier_trainer(spec, init, train_step, eval_metrics)
