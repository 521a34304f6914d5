"""StyleGAN2 training (Karras et al. 2020; NVlabs/stylegan2-ada-pytorch training/loss.py).

One step = one D update and one G update, each one pure function of (state, batch) with
keys fold_in(state.key, step): `config.loss` (non-saturating logistic by default), style
mixing, lazy R1 every `r1_interval` steps and lazy path-length regularisation every
`pl_interval` steps, each scaled by its interval (the paper's lazy regularisation; the
official code steps the optimizer separately for it, here its gradient is added to the
main one). State also carries w_avg (truncation centre), the path-length mean, the
EMA of G's weights (`train.ema_decay`) and ADA's controller (`train.ada_target` > 0: D
sees every image, real or generated, augmented with probability p).
"""

from __future__ import annotations

from typing import Any

import flax
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import augment, losses
from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.models import build_gan
from jaxgen.models.stylegan2 import truncate
from jaxgen.optim import make_optimizer
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.gan import NetState


@flax.struct.dataclass
class StyleGAN2State:
  step: jax.Array      # steps done (one D and one G update each)
  g: NetState
  d: NetState
  key: jax.Array       # base PRNG key; step keys are fold_in(key, step)
  g_ema: Any           # EMA of G's params ({} when train.ema_decay = 0)
  w_avg: jax.Array     # [w_dim] running mean of w: the truncation centre
  pl_mean: jax.Array   # running mean of the path lengths (the regulariser's target a)
  ada: Any = flax.core.FrozenDict()  # augment.ada.AdaState ({} when train.ada_target = 0)


def r1_penalty(d_logits, x: jax.Array) -> jax.Array:
  """E ||grad_x D(x)||^2 over the batch (R1 of Mescheder et al. 2018, without gamma/2)."""
  grads = jax.grad(lambda v: jnp.sum(d_logits(v)))(x)
  return jnp.mean(jnp.sum(jnp.square(grads), axis=(1, 2, 3)))


def path_lengths(synthesize, ws: jax.Array, key: jax.Array) -> jax.Array:
  """||J_w^T y||_2 per sample with y ~ N(0, I) / sqrt(H W) (StyleGAN2 eq. 4; the
  gradient's squares are summed over w_dim and averaged over the num_ws copies)."""
  img_shape = jax.eval_shape(synthesize, ws).shape
  y = jax.random.normal(key, img_shape) / jnp.sqrt(img_shape[1] * img_shape[2])
  grads = jax.grad(lambda v: jnp.sum(synthesize(v) * y))(ws)
  return jnp.sqrt(jnp.mean(jnp.sum(jnp.square(grads), axis=2), axis=1))


def path_length_penalty(lengths: jax.Array, pl_mean: jax.Array,
                        decay: float) -> tuple[jax.Array, jax.Array]:
  """(E (|J^T y| - a)^2, new a) with a <- a + decay (E|J^T y| - a), as the official code."""
  new_mean = pl_mean + decay * (jnp.mean(jax.lax.stop_gradient(lengths)) - pl_mean)
  return jnp.mean(jnp.square(lengths - new_mean)), new_mean


@TRAINERS.register("stylegan2")
def build(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """The StyleGAN2 trainer for `config.model` (name 'stylegan2') and `config.stylegan2`."""
  if config.model.name != "stylegan2":
    raise ConfigError(f"trainer 'stylegan2' needs model.name='stylegan2', got "
                      f"{config.model.name!r}")
  if "stylegan2" not in config:
    raise ConfigError("trainer 'stylegan2' needs a config.stylegan2 block "
                      "(config_base.stylegan2(); see config_base.stylegan2_config)")
  models = build_gan(config.model, spec, config.train.compute_dtype)
  gen, disc = models.generator, models.discriminator
  sg = config.stylegan2
  loss = losses.get_loss(config.loss.name)
  policy = augment.parse_policy(config.train.diffaug)
  ada_on = config.train.ada_target > 0
  ada_ops = augment.ada.parse_pipeline(config.train.ada_pipeline) if ada_on else ()
  ema_decay, ema_start = config.train.ema_decay, config.train.ema_start
  num_steps, num_ws, latent_dim = config.train.num_steps, gen.num_ws, models.latent_dim
  num_classes = spec.num_classes if config.model.cond else 0
  r1_interval, pl_interval = sg.r1_interval, sg.pl_interval
  r1_weight = sg.r1_gamma / 2 * r1_interval
  pl_weight = sg.pl_weight * pl_interval

  def noise(key: jax.Array, n: int) -> jax.Array:
    return jax.random.normal(key, (n, latent_dim))

  def labels(key: jax.Array, n: int) -> jax.Array | None:
    return jax.random.randint(key, (n,), 0, num_classes) if num_classes else None

  def init(key: jax.Array) -> StyleGAN2State:
    g_key, d_key, state_key = jax.random.split(key, 3)
    y = jnp.zeros((2,), jnp.int32) if num_classes else None
    g_params = gen.init(g_key, jnp.zeros((2, latent_dim)), y)["params"]
    d_params = disc.init(d_key, jnp.zeros((2,) + tuple(spec.shape)), y)["params"]
    g = NetState.create(apply_fn=gen.apply, params=g_params,
                        tx=make_optimizer(config.optim.g, num_steps))
    d = NetState.create(apply_fn=disc.apply, params=d_params,
                        tx=make_optimizer(config.optim.d, num_steps))
    g_ema = jax.tree.map(jnp.copy, g_params) if ema_decay else flax.core.FrozenDict()
    ada = augment.ada.init_state(config.train.ada_p_init) if ada_on else flax.core.FrozenDict()
    return StyleGAN2State(step=jnp.zeros((), jnp.int32), g=g, d=d, key=state_key,
                          g_ema=g_ema, w_avg=jnp.zeros((latent_dim,)),
                          pl_mean=jnp.zeros(()), ada=ada)

  def mapped_ws(params, key: jax.Array, n: int) -> tuple[jax.Array, jax.Array | None]:
    """ws [n, num_ws, w_dim] with style mixing: with probability style_mixing_prob the
    layers from a random cutoff on take the w of a second latent (loss.py, run_G)."""
    z_key, z2_key, y_key, p_key, c_key = jax.random.split(key, 5)
    y = labels(y_key, n)
    w = gen.apply({"params": params}, noise(z_key, n), y, method="map")
    ws = jnp.repeat(w[:, None], num_ws, axis=1)
    if sg.style_mixing_prob > 0:
      w2 = gen.apply({"params": params}, noise(z2_key, n), y, method="map")
      cutoff = jax.random.randint(c_key, (), 1, num_ws)
      cutoff = jnp.where(jax.random.uniform(p_key) < sg.style_mixing_prob, cutoff, num_ws)
      ws = jnp.where((jnp.arange(num_ws) < cutoff)[None, :, None], ws, w2[:, None])
    return ws, y

  def synthesize(params, ws: jax.Array, key: jax.Array) -> jax.Array:
    return gen.apply({"params": params}, ws, method="synthesize", rngs={"noise": key})

  def d_logits(params, x: jax.Array, y, key: jax.Array, p) -> jax.Array:
    """D of images ADA-augmented with probability p (when on), then DiffAugment-ed
    (when train.diffaug names a policy)."""
    if ada_on:
      x = augment.ada.augment(jax.random.fold_in(key, 1), x, p, ada_ops)
    x = augment.diff_augment(policy, key, x) if policy else x
    return disc.apply({"params": params}, x, y)

  def d_update(state: StyleGAN2State, x_real, y_real, key) -> tuple[NetState, Metrics]:
    w_key, n_key, a_key, b_key, r_key = jax.random.split(key, 5)
    ws, y_fake = mapped_ws(state.g.params, w_key, x_real.shape[0])
    fake = jax.lax.stop_gradient(synthesize(state.g.params, ws, n_key))
    y_real = y_real if num_classes else None
    p = state.ada.p if ada_on else None

    def main_loss(params):
      real_logits = d_logits(params, x_real, y_real, a_key, p)
      fake_logits = d_logits(params, fake, y_fake, b_key, p)
      return loss.d_loss(real_logits, fake_logits), (real_logits, fake_logits)

    def r1_loss(params):
      return r1_penalty(lambda x: d_logits(params, x, y_real, r_key, p), x_real)

    (value, (real_logits, fake_logits)), grads = jax.value_and_grad(
        main_loss, has_aux=True)(state.d.params)
    metrics = {"d_loss": value, "d_real": jnp.mean(real_logits),
               "d_fake": jnp.mean(fake_logits)}
    if r1_interval and sg.r1_gamma:
      def with_r1(params):
        r1, r1_grads = jax.value_and_grad(r1_loss)(params)
        return r1, jax.tree.map(lambda g: r1_weight * g, r1_grads)
      r1, r1_grads = jax.lax.cond(
          state.step % r1_interval == 0, with_r1,
          lambda params: (jnp.zeros(()), jax.tree.map(jnp.zeros_like, params)),
          state.d.params)
      grads = jax.tree.map(jnp.add, grads, r1_grads)
      metrics["d_r1"] = r1
    return state.d.apply_gradients(grads=grads), metrics, real_logits

  def g_update(state: StyleGAN2State, d: NetState, n: int, key: jax.Array):
    w_key, n_key, a_key, pw_key, pn_key, py_key = jax.random.split(key, 6)
    p = state.ada.p if ada_on else None

    def main_loss(params):
      ws, y = mapped_ws(params, w_key, n)
      fake_logits = d_logits(d.params, synthesize(params, ws, n_key), y, a_key, p)
      return loss.g_loss(fake_logits), ws

    (value, ws), grads = jax.value_and_grad(main_loss, has_aux=True)(state.g.params)
    metrics = {"g_loss": value}
    pl_mean = state.pl_mean
    if sg.pl_weight:
      def with_pl(params):
        def pl_loss(params):
          pl_ws, _ = mapped_ws(params, pw_key, max(n // sg.pl_batch_shrink, 1))
          lengths = path_lengths(lambda v: synthesize(params, v, pn_key), pl_ws, py_key)
          return path_length_penalty(lengths, state.pl_mean, sg.pl_decay)
        (pl, new_mean), pl_grads = jax.value_and_grad(pl_loss, has_aux=True)(params)
        return pl, new_mean, jax.tree.map(lambda g: pl_weight * g, pl_grads)
      pl, pl_mean, pl_grads = jax.lax.cond(
          state.step % pl_interval == 0, with_pl,
          lambda params: (jnp.zeros(()), state.pl_mean,
                          jax.tree.map(jnp.zeros_like, params)), state.g.params)
      grads = jax.tree.map(jnp.add, grads, pl_grads)
      metrics.update(g_pl=pl, pl_mean=pl_mean)
    # w_avg tracks the mapped w of the batch (MappingNetwork's w_avg_beta).
    w_avg = state.w_avg + (1 - sg.w_avg_decay) * (
        jnp.mean(jax.lax.stop_gradient(ws[:, 0]), axis=0) - state.w_avg)
    return state.g.apply_gradients(grads=grads), w_avg, pl_mean, metrics

  def update_ema(step: jax.Array, ema: Any, params: Any) -> Any:
    decay = jnp.where(step >= ema_start, ema_decay, 0.0)
    return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)

  def train_step(state: StyleGAN2State, batch: Batch) -> tuple[StyleGAN2State, Metrics]:
    d_key, g_key = jax.random.split(jax.random.fold_in(state.key, state.step))
    x_real, y_real = batch["x"][0], batch["y"][0]
    d, d_metrics, real_logits = d_update(state, x_real, y_real, d_key)
    g, w_avg, pl_mean, g_metrics = g_update(state, d, x_real.shape[0], g_key)
    g_ema = update_ema(state.step, state.g_ema, g.params) if ema_decay else state.g_ema
    metrics, ada = {**d_metrics, **g_metrics}, state.ada
    if ada_on:  # the controller sees D's logits of the real batch (r_t heuristic)
      ada = augment.ada.update(state.ada, real_logits, config)
      metrics.update(ada_p=ada.p, ada_rt=ada.r_t)
    new = state.replace(step=state.step + 1, g=g, d=d, g_ema=g_ema, w_avg=w_avg,
                        pl_mean=pl_mean, ada=ada)
    return new, metrics

  def sample(state: StyleGAN2State, z: jax.Array) -> jax.Array:
    """Images from latents z with EMA weights, const noise and truncation psi; labels
    cycle through the classes."""
    y = jnp.arange(z.shape[0]) % num_classes if num_classes else None
    params = state.g_ema if ema_decay else state.g.params
    w = truncate(gen.apply({"params": params}, z, y, method="map"), state.w_avg,
                 sg.truncation_psi)
    return gen.apply({"params": params}, jnp.repeat(w[:, None], num_ws, axis=1),
                     method="synthesize")

  return Trainer(init=init, train_step=train_step, sample=sample, noise=noise,
                 batches_per_step=1)
