"""Adversarial training: `n_critic` discriminator updates, then one generator update.

The whole update is one pure function of (state, batch); its randomness comes from
`fold_in(state.key, state.step)`, so a run is a deterministic function of the seed.
"""

from __future__ import annotations

from typing import Any

import flax
import jax
import jax.numpy as jnp
import ml_collections
from flax.training import train_state

from jaxgen import losses
from jaxgen.data import DataSpec
from jaxgen.models import build_gan
from jaxgen.optim import make_optimizer
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer


class NetState(train_state.TrainState):
  """One network's params, optimizer state and (possibly empty) BatchNorm statistics."""
  batch_stats: Any = flax.core.FrozenDict()


@flax.struct.dataclass
class GANState:
  step: jax.Array   # generator updates done
  g: NetState
  d: NetState
  key: jax.Array    # base PRNG key; step keys are fold_in(key, step)


def _variables(net: NetState, params=None) -> dict:
  variables = {"params": net.params if params is None else params}
  if net.batch_stats:
    variables["batch_stats"] = net.batch_stats
  return variables


def _apply(net: NetState, x: jax.Array, y: jax.Array, params=None):
  """Runs a network in training mode; returns (output, updated batch stats)."""
  out, updates = net.apply_fn(_variables(net, params), x, y, train=True,
                              mutable=["batch_stats"])
  return out, updates.get("batch_stats", net.batch_stats)


@TRAINERS.register("gan")
def build(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """A GAN trainer for `config.model` / `config.loss` / `config.optim` on data `spec`."""
  models = build_gan(config.model, spec)
  loss = losses.get_loss(config.loss.name)
  penalty_name = config.loss.get("penalty", "auto")
  penalty_name = loss.default_penalty if penalty_name == "auto" else penalty_name
  penalty = losses.get_penalty(penalty_name) if penalty_name else None
  penalty_weight = config.loss.get("penalty_weight", -1.0)
  if penalty_weight < 0:  # negative = the loss's own default (10 for WGAN-GP)
    penalty_weight = loss.default_penalty_weight
  clip = config.loss.get("clip_d_weights", 0.0)
  n_critic = config.train.get("n_critic", 1)
  num_steps = config.train.num_steps
  latent_dim = models.latent_dim
  num_classes = spec.num_classes

  def noise(key: jax.Array, n: int) -> jax.Array:
    return jax.random.normal(key, (n, latent_dim))

  def init(key: jax.Array) -> GANState:
    g_key, d_key, state_key = jax.random.split(key, 3)
    z = jnp.zeros((2, latent_dim))
    y = jnp.zeros((2,), jnp.int32)
    g_vars = models.generator.init(g_key, z, y, train=True)
    x = jnp.zeros((2,) + tuple(spec.shape))
    d_vars = models.discriminator.init(d_key, x, y, train=True)
    g = NetState.create(apply_fn=models.generator.apply, params=g_vars["params"],
                        tx=make_optimizer(config.optim.g, num_steps),
                        batch_stats=g_vars.get("batch_stats", {}))
    d = NetState.create(apply_fn=models.discriminator.apply, params=d_vars["params"],
                        tx=make_optimizer(config.optim.d, num_steps * n_critic),
                        batch_stats=d_vars.get("batch_stats", {}))
    return GANState(step=jnp.zeros((), jnp.int32), g=g, d=d, key=state_key)

  def fake_labels(key: jax.Array, n: int) -> jax.Array:
    return jax.random.randint(key, (n,), 0, max(num_classes, 1))

  def d_update(g: NetState, d: NetState, x_real: jax.Array, y_real: jax.Array,
               key: jax.Array) -> tuple[NetState, Metrics]:
    z_key, y_key, p_key = jax.random.split(key, 3)
    n = x_real.shape[0]
    y_fake = fake_labels(y_key, n)
    fake, _ = _apply(g, noise(z_key, n), y_fake)
    fake = jax.lax.stop_gradient(fake)

    def loss_fn(params):
      real_logits, stats = _apply(d, x_real, y_real, params)
      d_after_real = d.replace(batch_stats=stats)
      fake_logits, stats = _apply(d_after_real, fake, y_fake, params)
      value = loss.d_loss(real_logits, fake_logits)
      metrics = {"d_loss": value, "d_real": jnp.mean(real_logits),
                 "d_fake": jnp.mean(fake_logits)}
      if penalty is not None:
        d_fn = lambda x: _apply(d_after_real, x, y_real, params)[0]
        reg = penalty(d_fn, x_real, fake, p_key)
        value = value + penalty_weight * reg
        metrics["d_penalty"] = reg
      return value, (stats, metrics)

    grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(d.params)
    d = d.apply_gradients(grads=grads, batch_stats=stats)
    if clip:  # WGAN (Arjovsky et al. 2017) keeps the critic Lipschitz by weight clipping.
      d = d.replace(params=jax.tree.map(lambda p: jnp.clip(p, -clip, clip), d.params))
    return d, metrics

  def g_update(g: NetState, d: NetState, n: int,
               key: jax.Array) -> tuple[NetState, Metrics]:
    z_key, y_key = jax.random.split(key)
    z, y = noise(z_key, n), fake_labels(y_key, n)

    def loss_fn(params):
      fake, stats = _apply(g, z, y, params)
      fake_logits, _ = _apply(d, fake, y)
      return loss.g_loss(fake_logits), stats

    (value, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(g.params)
    return g.apply_gradients(grads=grads, batch_stats=stats), {"g_loss": value}

  def train_step(state: GANState, batch: Batch) -> tuple[GANState, Metrics]:
    keys = jax.random.split(jax.random.fold_in(state.key, state.step), n_critic + 1)

    def critic_step(d, inputs):
      x, y, key = inputs
      return d_update(state.g, d, x, y, key)

    d, d_metrics = jax.lax.scan(critic_step, state.d, (batch["x"], batch["y"], keys[:-1]))
    g, g_metrics = g_update(state.g, d, batch["x"].shape[1], keys[-1])
    metrics = {**jax.tree.map(jnp.mean, d_metrics), **g_metrics}
    return state.replace(step=state.step + 1, g=g, d=d), metrics

  def sample(state: GANState, z: jax.Array) -> jax.Array:
    """Generator output in evaluation mode (BatchNorm running statistics)."""
    y = jnp.arange(z.shape[0]) % max(num_classes, 1)
    return state.g.apply_fn(_variables(state.g), z, y, train=False)

  return Trainer(init=init, train_step=train_step, sample=sample, noise=noise,
                 batches_per_step=n_critic)
