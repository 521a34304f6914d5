"""DANN (Ganin & Lempitsky 2015): a domain classifier on F's features behind a gradient
reversal layer, so one gradient step trains the classifier to tell the domains apart
and F to confuse it.

Loss: CE(C(F(x_s)), y_s) + BCE(D(R(F(x_s))), 0) + BCE(D(R(F(x_t))), 1), where R is the
identity forward and multiplies the gradient by -lambda_p backward, lambda_p =
dann_weight * (2 / (1 + exp(-10 p)) - 1), p = step / num_steps (`da.dann_schedule`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen.data import DataSpec
from jaxgen.models.domain_nets import MLPHead
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.da_erm import (Classifier, DAState, accuracy, classifier_trainer,
                                    cross_entropy, eval_metrics, init_net, joint_gradient_step)


@jax.custom_vjp
def gradient_reversal(x: jax.Array, scale: jax.Array) -> jax.Array:
  """Identity forward; the backward pass multiplies the gradient by -scale."""
  del scale
  return x


def _reversal_fwd(x, scale):
  return x, scale


def _reversal_bwd(scale, g):
  return -scale * g, jnp.zeros_like(scale)


gradient_reversal.defvjp(_reversal_fwd, _reversal_bwd)


def reversal_weight(config: ml_collections.ConfigDict, step: jax.Array) -> jax.Array:
  """lambda_p of the reversal layer at `step`."""
  weight = jnp.asarray(config.da.dann_weight, jnp.float32)
  if config.da.dann_schedule == "constant":
    return weight
  p = step.astype(jnp.float32) / config.train.num_steps
  return weight * (2.0 / (1.0 + jnp.exp(-10.0 * p)) - 1.0)


def domain_loss(d_logits_s: jax.Array, d_logits_t: jax.Array) -> jax.Array:
  """BCE of the domain classifier: source = 0, target = 1."""
  return (jnp.mean(optax.sigmoid_binary_cross_entropy(d_logits_s, jnp.zeros_like(d_logits_s)))
          + jnp.mean(optax.sigmoid_binary_cross_entropy(d_logits_t, jnp.ones_like(d_logits_t))))


@TRAINERS.register("dann")
def build_dann(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """DANN: F, C and a domain classifier 'd' (an MLP on features) trained jointly."""
  model = Classifier(config, spec)
  critic = MLPHead(tuple(config.da.critic_hidden), 1)

  def init(key: jax.Array) -> DAState:
    net_key, d_key, state_key = jax.random.split(key, 3)
    nets = model.init(net_key)
    h = jnp.zeros((2, config.da.feature_dim))
    nets["d"] = init_net(critic, d_key, (h,), model.optimizer("d"))
    return DAState(step=jnp.zeros((), jnp.int32), nets=nets, key=state_key)

  def train_step(state: DAState, batch: Batch) -> tuple[DAState, Metrics]:
    xs, ys, xt = batch["x"][0], batch["y"][0], batch["x_t"][0]
    lam = reversal_weight(config, state.step)
    nets = state.nets

    def loss_fn(params):
      h = nets["f"].apply_fn({"params": params["f"]}, jnp.concatenate([xs, xt]))
      hs = h[:xs.shape[0]]
      logits = nets["c"].apply_fn({"params": params["c"]}, hs)
      d = nets["d"].apply_fn({"params": params["d"]}, gradient_reversal(h, lam))[:, 0]
      cls = cross_entropy(logits, ys)
      dom = domain_loss(d[:xs.shape[0]], d[xs.shape[0]:])
      d_acc = jnp.mean(jnp.concatenate([d[:xs.shape[0]] < 0, d[xs.shape[0]:] > 0]))
      return cls + dom, {"class_loss": cls, "domain_loss": dom, "domain_acc": d_acc,
                         "train_acc": accuracy(logits, ys)}

    state, metrics = joint_gradient_step(state, loss_fn, ("f", "c", "d"))
    return state, {**metrics, "lambda": lam}

  return classifier_trainer(spec, init, train_step, eval_metrics)
