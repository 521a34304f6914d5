"""CMSS (Yang, Balaji, Lim, Shrivastava, ECCV 2020): a curriculum manager CM weights the
source samples of each batch, w = softmax_batch(CM(x_s)), inside DANN's domain loss.

L_dom = sum_i w_i BCE(D(R(F(x_s,i))), source) + mean_j BCE(D(R(F(x_t,j))), target).
D minimises L_dom; F maximises it through the reversal R (DANN's lambda_p); CM maximises
it too (its own reversal, cmss.cm_weight), so it raises the weight of the sources D takes
for target: no domain labels are used. C minimises the source CE (optionally weighted by
B * w, cmss.weighted_class_loss). The reference code is not public: these are the paper's
equations as recalled ([mem] in PAPERS.md). Logs the mean weight per source domain
(weight_src<k>, uniform = 1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen.data import DataSpec
from jaxgen.data.multi_source import source_names
from jaxgen.models.domain_nets import MLPHead
from jaxgen.models.multi_source_nets import CurriculumManager
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.da_erm import (Classifier, DAState, accuracy, classifier_trainer, eval_metrics,
                                    init_net, joint_gradient_step)
from jaxgen.trainers.dann import gradient_reversal, reversal_weight


def curriculum_weights(scores: jax.Array) -> jax.Array:
  """The batch's sample weights: softmax of CM's scores over the batch (they sum to 1)."""
  return jax.nn.softmax(scores)


def weighted_domain_loss(d_logits_s: jax.Array, d_logits_t: jax.Array,
                         weights: jax.Array) -> jax.Array:
  """BCE of the domain classifier, source = 0 weighted by `weights`, target = 1 averaged."""
  source = jnp.sum(weights * optax.sigmoid_binary_cross_entropy(
      d_logits_s, jnp.zeros_like(d_logits_s)))
  return source + jnp.mean(optax.sigmoid_binary_cross_entropy(d_logits_t,
                                                              jnp.ones_like(d_logits_t)))


def weight_per_domain(weights: jax.Array, domains: jax.Array, num_domains: int) -> Metrics:
  """Mean of B * w over each source domain's samples in the batch (1 = uniform)."""
  scaled = weights * weights.shape[0]
  out = {}
  for k in range(num_domains):
    member = (domains == k).astype(scaled.dtype)
    out[f"weight_src{k}"] = jnp.sum(scaled * member) / jnp.maximum(jnp.sum(member), 1.0)
  return out


@TRAINERS.register("cmss")
def build_cmss(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """CMSS: F, C, the domain classifier 'd' and the curriculum manager 'cm'."""
  model = Classifier(config, spec)
  critic = MLPHead(tuple(config.da.critic_hidden), 1)
  manager = CurriculumManager(config.cmss.cm_width, config.cmss.cm_feature_dim,
                              config.da.conv_impl)
  num_sources = len(source_names(config.dataset))

  def init(key: jax.Array) -> DAState:
    net_key, d_key, cm_key, state_key = jax.random.split(key, 4)
    nets = model.init(net_key)
    nets["d"] = init_net(critic, d_key, (jnp.zeros((2, config.da.feature_dim)),),
                         model.optimizer("d"))
    nets["cm"] = init_net(manager, cm_key, (jnp.zeros((2,) + tuple(spec.shape)),),
                          model.optimizer("cm"))
    return DAState(step=jnp.zeros((), jnp.int32), nets=nets, key=state_key)

  def train_step(state: DAState, batch: Batch) -> tuple[DAState, Metrics]:
    xs, ys, ds, xt = batch["x"][0], batch["y"][0], batch["d"][0], batch["x_t"][0]
    lam = reversal_weight(config, state.step)
    nets, n = state.nets, xs.shape[0]

    def loss_fn(params):
      h = nets["f"].apply_fn({"params": params["f"]}, jnp.concatenate([xs, xt]))
      logits = nets["c"].apply_fn({"params": params["c"]}, h[:n])
      d = nets["d"].apply_fn({"params": params["d"]}, gradient_reversal(h, lam))[:, 0]
      scores = nets["cm"].apply_fn({"params": params["cm"]}, xs)
      weights = curriculum_weights(gradient_reversal(scores, config.cmss.cm_weight))
      ce = optax.softmax_cross_entropy_with_integer_labels(logits, ys)
      if config.cmss.weighted_class_loss:
        cls = jnp.sum(jax.lax.stop_gradient(weights) * ce)
      else:
        cls = jnp.mean(ce)
      dom = weighted_domain_loss(d[:n], d[n:], weights)
      w = jax.lax.stop_gradient(weights)
      metrics = {"class_loss": cls, "domain_loss": dom, "train_acc": accuracy(logits, ys),
                 "domain_acc": jnp.mean(jnp.concatenate([d[:n] < 0, d[n:] > 0])),
                 "weight_max": jnp.max(w) * n,
                 "weight_entropy": -jnp.sum(w * jnp.log(w + 1e-12)) / jnp.log(n)}
      metrics.update(weight_per_domain(w, ds, num_sources))
      return cls + dom, metrics

    state, metrics = joint_gradient_step(state, loss_fn, ("f", "c", "d", "cm"))
    return state, {**metrics, "lambda": lam}

  return classifier_trainer(spec, init, train_step, eval_metrics)
