"""Wasserstein feature alignment ('w_align') and its Normalized-Wasserstein version under
label shift ('nw_adapt'; Balaji, Chellappa & Feizi, ICCV 2019, Sec. 5).

A WGAN critic D on F's features estimates W(P_s, P_t) = max_D S - T, T = E_t[D(F(x))].
W: S = E_s[D(F(x))]. NW: S = sum_k pi_k E_s[D(F(x)) | y = k] with learned proportions
pi = softmax(logits), so the source is re-mixed to the target's class proportions
before it is aligned (jaxgen/losses/label_shift.py). Each step, as the reference code:
D ascends S - T (then its weights are clipped to +-da.critic_clip); pi descends S (NW);
F and C descend the source cross-entropy, plus da.w_weight (S - T) every
da.align_every-th step (paper: 10).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections

from jaxgen.data import DataSpec
from jaxgen.losses.label_shift import mixture_mean, proportion_error
from jaxgen.models.domain_nets import MLPHead
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.da_erm import (Classifier, DAState, accuracy, apply_grads, classifier_trainer,
                                    cross_entropy, eval_metrics, init_net)
from jaxgen.trainers.gan import NetState


def clip_params(params, bound: float):
  return jax.tree.map(lambda p: jnp.clip(p, -bound, bound), params)


def alignment(config: ml_collections.ConfigDict, spec: DataSpec, *, normalized: bool) -> Trainer:
  """The W (normalized=False) or NW (True) alignment trainer."""
  model = Classifier(config, spec)
  critic = MLPHead(tuple(config.da.critic_hidden), 1)
  clip, gamma, every = config.da.critic_clip, config.da.w_weight, config.da.align_every

  def init(key: jax.Array) -> DAState:
    net_key, d_key, state_key = jax.random.split(key, 3)
    nets = model.init(net_key)
    d = init_net(critic, d_key, (jnp.zeros((2, config.da.feature_dim)),), model.optimizer("d"))
    nets["d"] = d.replace(params=clip_params(d.params, clip))
    if normalized:  # pi = softmax(0) = uniform at the start, as the paper's 1/K
      nets["pi"] = NetState.create(apply_fn=None,
                                   params={"logits": jnp.zeros((spec.num_classes,))},
                                   tx=model.optimizer("pi"))
    return DAState(step=jnp.zeros((), jnp.int32), nets=nets, key=state_key)

  def source_term(d_values: jax.Array, ys: jax.Array, pi_logits) -> jax.Array:
    return mixture_mean(d_values, ys, pi_logits) if normalized else jnp.mean(d_values)

  def train_step(state: DAState, batch: Batch) -> tuple[DAState, Metrics]:
    xs, ys, xt = batch["x"][0], batch["y"][0], batch["x_t"][0]
    nets = state.nets
    pi0 = nets["pi"].params["logits"] if normalized else None
    f_apply, c_apply, d_apply = nets["f"].apply_fn, nets["c"].apply_fn, nets["d"].apply_fn
    hs = f_apply({"params": nets["f"].params}, xs)
    ht = f_apply({"params": nets["f"].params}, xt)

    def critic_gap(d_params, pi_logits, hs, ht):
      """S - T: the critic's estimate of the (normalized) Wasserstein distance."""
      s = source_term(d_apply({"params": d_params}, hs)[:, 0], ys, pi_logits)
      return s - jnp.mean(d_apply({"params": d_params}, ht)[:, 0])

    # Critic: ascend S - T, then clip (WGAN).
    gap, d_grads = jax.value_and_grad(lambda p: -critic_gap(p, pi0, hs, ht))(nets["d"].params)
    d_net = nets["d"].apply_gradients(grads=d_grads)
    d_net = d_net.replace(params=clip_params(d_net.params, clip))
    updated = {"d": d_net}
    metrics = {"w_estimate": -gap}
    if normalized:  # pi: descend S with the critic values of this step
      pi_grad = jax.grad(lambda p: critic_gap(nets["d"].params, p, hs, ht))(pi0)
      updated["pi"] = nets["pi"].apply_gradients(grads={"logits": pi_grad})
      metrics["pi_max"] = jnp.max(jax.nn.softmax(updated["pi"].params["logits"]))
    pi1 = updated["pi"].params["logits"] if normalized else None
    align = (jnp.mod(state.step + 1, every) == 0).astype(jnp.float32)

    def fc_loss(params):
      hs_f = f_apply({"params": params["f"]}, xs)
      ht_f = f_apply({"params": params["f"]}, xt)
      logits = c_apply({"params": params["c"]}, hs_f)
      cls = cross_entropy(logits, ys)
      gap = critic_gap(d_net.params, pi1, hs_f, ht_f)
      return cls + align * gamma * gap, (cls, accuracy(logits, ys))
    grads, (cls, acc) = jax.grad(fc_loss, has_aux=True)(
        {"f": nets["f"].params, "c": nets["c"].params})
    nets = apply_grads({**nets, **updated}, grads)
    metrics.update(class_loss=cls, train_acc=acc)
    return state.replace(step=state.step + 1, nets=nets), metrics

  def nw_eval(state: DAState, batch: Batch, key: jax.Array) -> Metrics:
    """eval_metrics plus, for NW, the TV distance of pi to the target batch's label shares."""
    metrics = eval_metrics(state, batch, key)
    if normalized and "y_t" in batch:
      metrics["pi_tv"] = proportion_error(state.nets["pi"].params["logits"], batch["y_t"])
    return metrics

  return classifier_trainer(spec, init, train_step, nw_eval)


@TRAINERS.register("w_align")
def build_w_align(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """Plain Wasserstein alignment of source and target features (NW's baseline)."""
  return alignment(config, spec, normalized=False)


@TRAINERS.register("nw_adapt")
def build_nw_adapt(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """Normalized-Wasserstein alignment: the source re-mixed by learned class proportions."""
  return alignment(config, spec, normalized=True)
