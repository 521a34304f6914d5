"""Entropic GAN (Balaji, Hassani, Chellappa, Feizi, NeurIPS 2019) on the common loop.

Two critics D1 (real) and D2 (generated) with `model`'s discriminator architecture
maximise the entropic dual (jaxgen/losses/entropic.py) for `train.n_critic` steps (paper:
5), then G minimises the primal cost. lambda warms up linearly from `entropic.lam_start`
to `entropic.lam`. `eval_metrics` is the sample-likelihood surrogate of held-out data,
`entropic_log_likelihood` (jaxgen/metrics/entropic_likelihood.py), in `jaxgen.evaluate`.
"""

from __future__ import annotations

import flax
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen.data import DataSpec
from jaxgen.losses import entropic
from jaxgen.metrics.entropic_likelihood import entropic_log_likelihood
from jaxgen.models import build_gan
from jaxgen.optim import make_optimizer
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.gan import NetState
from jaxgen.trainers.gan import _apply as apply_train_mode
from jaxgen.trainers.gan import _variables as net_variables


@flax.struct.dataclass
class EntropicState:
  step: jax.Array   # generator updates done
  g: NetState
  d1: NetState      # potential on real examples
  d2: NetState      # potential on generated examples
  key: jax.Array    # base PRNG key; step keys are fold_in(key, step)


def lambda_at(step: jax.Array, cfg: ml_collections.ConfigDict) -> jax.Array:
  """lambda at generator step `step`: lam_start -> lam linearly over warmup_steps."""
  if not cfg.lam_start or not cfg.warmup_steps:
    return jnp.asarray(cfg.lam, jnp.float32)
  frac = jnp.minimum(step / cfg.warmup_steps, 1.0)
  return cfg.lam_start + frac * (cfg.lam - cfg.lam_start)


@TRAINERS.register("entropic_gan")
def build(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """The entropic GAN trainer for `config.model`, `config.entropic` and `config.optim`."""
  models = build_gan(config.model, spec)
  cfg = config.entropic
  n_critic = config.train.n_critic
  num_steps = config.train.num_steps
  latent_dim = models.latent_dim
  to_cost_space = ((lambda x: (x + 1.0) / 2.0) if cfg.cost_scale == "pixels01"
                   and spec.kind == "image" else (lambda x: x))

  def cost_matrix(fake: jax.Array, real: jax.Array) -> jax.Array:
    return entropic.pairwise_cost(to_cost_space(fake), to_cost_space(real), cfg.cost)

  def noise(key: jax.Array, n: int) -> jax.Array:
    return jax.random.normal(key, (n, latent_dim))

  def init(key: jax.Array) -> EntropicState:
    g_key, d1_key, d2_key, state_key = jax.random.split(key, 4)
    y = jnp.zeros((2,), jnp.int32)
    g_vars = models.generator.init(g_key, jnp.zeros((2, latent_dim)), y, train=True)
    x = jnp.zeros((2,) + tuple(spec.shape))
    g = NetState.create(apply_fn=models.generator.apply, params=g_vars["params"],
                        tx=make_optimizer(config.optim.g, num_steps),
                        batch_stats=g_vars.get("batch_stats", {}))
    critics = []
    for k in (d1_key, d2_key):
      d_vars = models.discriminator.init(k, x, y, train=True)
      critics.append(NetState.create(apply_fn=models.discriminator.apply,
                                     params=d_vars["params"],
                                     tx=make_optimizer(config.optim.d, num_steps * n_critic),
                                     batch_stats=d_vars.get("batch_stats", {})))
    return EntropicState(step=jnp.zeros((), jnp.int32), g=g, d1=critics[0], d2=critics[1],
                         key=state_key)

  def critic_update(g: NetState, critics: tuple[NetState, NetState], x_real: jax.Array,
                    lam: jax.Array, key: jax.Array):
    d1, d2 = critics
    n = x_real.shape[0]
    y = jnp.zeros((n,), jnp.int32)
    fake = jax.lax.stop_gradient(apply_train_mode(g, noise(key, n), y)[0])
    cost = cost_matrix(fake, x_real)

    def loss_fn(params):
      d1_real, stats1 = apply_train_mode(d1, x_real, y, params[0])
      d2_fake, stats2 = apply_train_mode(d2, fake, y, params[1])
      value = entropic.critic_loss(d1_real, d2_fake, cost, lam)
      return value, ((stats1, stats2), {"d_loss": value, "d1_real": jnp.mean(d1_real),
                                        "d2_fake": jnp.mean(d2_fake)})

    grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)((d1.params, d2.params))
    d1 = d1.apply_gradients(grads=grads[0], batch_stats=stats[0])
    d2 = d2.apply_gradients(grads=grads[1], batch_stats=stats[1])
    return (d1, d2), metrics

  def g_update(g: NetState, d1: NetState, d2: NetState, x_real: jax.Array, lam: jax.Array,
               key: jax.Array) -> tuple[NetState, Metrics]:
    n = x_real.shape[0]
    y = jnp.zeros((n,), jnp.int32)
    z = noise(key, n)
    d1_real = apply_train_mode(d1, x_real, y)[0]

    def loss_fn(params):
      fake, stats = apply_train_mode(g, z, y, params)
      d2_fake = apply_train_mode(d2, fake, y)[0]
      value = entropic.generator_loss(d1_real, d2_fake, cost_matrix(fake, x_real), lam)
      return value, stats

    (value, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(g.params)
    return g.apply_gradients(grads=grads, batch_stats=stats), {"g_loss": value}

  def train_step(state: EntropicState, batch: Batch) -> tuple[EntropicState, Metrics]:
    keys = jax.random.split(jax.random.fold_in(state.key, state.step), n_critic + 1)
    lam = lambda_at(state.step, cfg)

    def critic_step(critics, inputs):
      x, key = inputs
      return critic_update(state.g, critics, x, lam, key)

    (d1, d2), d_metrics = jax.lax.scan(critic_step, (state.d1, state.d2),
                                       (batch["x"], keys[:-1]))
    g, g_metrics = g_update(state.g, d1, d2, batch["x"][-1], lam, keys[-1])
    metrics = {**jax.tree.map(jnp.mean, d_metrics), **g_metrics, "lambda": lam}
    return state.replace(step=state.step + 1, g=g, d1=d1, d2=d2), metrics

  def sample(state: EntropicState, z: jax.Array) -> jax.Array:
    y = jnp.zeros((z.shape[0],), jnp.int32)
    return state.g.apply_fn(net_variables(state.g), z, y, train=False)

  def log_likelihood(state: EntropicState, x: jax.Array, key: jax.Array) -> jax.Array:
    """The surrogate log-likelihood [B] of examples x under the trained G and D2."""
    z = noise(key, cfg.likelihood_latents)
    fake = sample(state, z)
    d2_fake = state.d2.apply_fn(net_variables(state.d2), fake,
                                jnp.zeros((z.shape[0],), jnp.int32), train=False)
    return entropic_log_likelihood(to_cost_space(x), z, to_cost_space(fake), d2_fake,
                                   lambda_at(state.step, cfg), cfg.cost)

  def eval_metrics(state: EntropicState, batch: Batch, key: jax.Array) -> Metrics:
    """Per-example surrogates [B]; jaxgen.evaluate reports their mean."""
    return {"entropic_log_likelihood": log_likelihood(state, batch["x"], key)}

  return Trainer(init=init, train_step=train_step, sample=sample, noise=noise,
                 batches_per_step=n_critic, eval_metrics=eval_metrics)
