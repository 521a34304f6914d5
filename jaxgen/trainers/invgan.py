"""InvGAN (Lin, Balaji, Samangouei, Chellappa): an encoder E inverting a frozen, trained G.

Trainer 'invgan' loads G from the GAN run in `invgan.gan_workdir` and trains E (and its
own discriminator D) on G's samples x_g = G(z), z ~ N(0, I), with x_c = G(E(x_g)):
  E: recon_weight * mean(relu(L1(x_c, x_g) - margin)) + latent_weight * MSE(E(x_g), z)
     + adv_weight * NS generator loss of D(x_c);   D: real = x_g, fake = x_c.
Test time, `invert` refines z from E(x) by momentum SGD on |G(z) - x|^2 (the paper's
schedule), and `defense_gan` is the random-restart baseline (Samangouei et al. 2018).
"""

from __future__ import annotations

import json
import os
from typing import Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen import config_base
from jaxgen.checkpoint import Checkpointer
from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.models import build_encoder, build_gan
from jaxgen.optim import make_optimizer
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer, build_trainer
from jaxgen.trainers.gan import NetState

Array = jax.Array
Generator = Callable[[Array], Array]


@flax.struct.dataclass
class InvGANState:
  step: jax.Array   # updates done (one D step, then one E step)
  enc: NetState     # the encoder E: x -> z
  d: NetState       # E's discriminator (G's samples vs their reconstructions)
  key: jax.Array    # base PRNG key; step keys are fold_in(key, step)


class FrozenGAN(NamedTuple):
  """A trained generator: `generate(z) -> x` (evaluation mode), its config and latent size."""
  generate: Generator
  config: ml_collections.ConfigDict
  latent_dim: int


def load_generator(gan_workdir: str) -> FrozenGAN:
  """G of the latest checkpoint of a jaxgen GAN run (its config.json names the model)."""
  path = os.path.join(gan_workdir, "config.json")
  if not gan_workdir or not os.path.isfile(path):
    raise ConfigError(f"invgan.gan_workdir {gan_workdir!r} is not a jaxgen run (no "
                      f"config.json); train a GAN first, e.g. python -m jaxgen.main")
  with open(path, encoding="utf-8") as f:
    gan_config = config_base.with_defaults(ml_collections.ConfigDict(json.load(f)))
  from jaxgen.data import get_dataset  # pylint: disable=g-import-not-at-top
  spec = get_dataset(gan_config.dataset).spec
  gan = build_trainer(gan_config, spec)
  checkpointer = Checkpointer(gan_workdir, async_save=False)
  try:
    state, step = checkpointer.restore(gan.init(jax.random.PRNGKey(gan_config.seed)))
  finally:
    checkpointer.close()
  if step is None:
    raise ConfigError(f"invgan.gan_workdir {gan_workdir!r} has no checkpoint; train it first")
  latent_dim = int(gan.noise(jax.random.PRNGKey(0), 1).shape[-1])
  return FrozenGAN(lambda z: gan.sample(state, z), gan_config, latent_dim)


def reconstruction_error(generate: Generator, z: Array, x: Array) -> Array:
  """Per-example mean squared error |G(z) - x|^2 / dims."""
  diff = generate(z) - x
  return jnp.mean(jnp.square(diff.reshape(diff.shape[0], -1)), axis=-1)


def invert(generate: Generator, x: Array, z0: Array, *, steps: int = 200, lr: float = 0.01,
           momentum: float = 0.7, decay_at: float = 0.8) -> tuple[Array, Array]:
  """z* = argmin_z |G(z) - x|^2 from z0 by momentum SGD, lr x0.1 after `decay_at` of the
  steps (the paper's test-time schedule). Returns (z*, per-step errors [steps + 1, B])."""
  schedule = optax.piecewise_constant_schedule(lr, {int(decay_at * steps): 0.1})
  tx = optax.sgd(schedule, momentum=momentum)
  loss = lambda z: jnp.sum(reconstruction_error(generate, z, x))

  def step(carry, _):
    z, opt_state = carry
    err = reconstruction_error(generate, z, x)
    updates, opt_state = tx.update(jax.grad(loss)(z), opt_state, z)
    return (optax.apply_updates(z, updates), opt_state), err

  (z, _), errors = jax.lax.scan(step, (z0, tx.init(z0)), None, length=steps)
  final = reconstruction_error(generate, z, x)
  return z, jnp.concatenate([errors, final[None]], axis=0)


def defense_gan(generate: Generator, x: Array, key: Array, latent_dim: int, *,
                restarts: int = 10, steps: int = 200, lr: float = 10.0,
                momentum: float = 0.7, decay_at: float = 0.8) -> tuple[Array, Array]:
  """Defense-GAN: `restarts` random z0 ~ N(0, I), each inverted as `invert`; each example
  keeps its best final z. Returns (z*, per-step best errors so far over restarts)."""
  z0 = jax.random.normal(key, (restarts, x.shape[0], latent_dim))
  zs, errors = jax.vmap(lambda z: invert(generate, x, z, steps=steps, lr=lr,
                                         momentum=momentum, decay_at=decay_at))(z0)
  best = jnp.argmin(errors[:, -1], axis=0)
  return zs[best, jnp.arange(x.shape[0])], jnp.min(errors, axis=0)


def _apply(net: NetState, x: Array, y: Array, train: bool, params=None):
  variables = {"params": net.params if params is None else params}
  if net.batch_stats:
    variables["batch_stats"] = net.batch_stats
  if not train or not net.batch_stats:
    return net.apply_fn(variables, x, y, train=train), net.batch_stats
  out, updates = net.apply_fn(variables, x, y, train=True, mutable=["batch_stats"])
  return out, updates["batch_stats"]


class InvGAN(NamedTuple):
  """The trainer plus `encode(state, x) -> z` and the frozen generator."""
  trainer: Trainer
  encode: Callable[[InvGANState, Array], Array]
  gan: FrozenGAN


def invgan(config: ml_collections.ConfigDict, spec: DataSpec) -> InvGAN:
  """E and D for the frozen G of `config.invgan.gan_workdir` (same data spec as the GAN)."""
  gan = load_generator(config.invgan.gan_workdir)
  c = config.invgan
  latent_dim, batch_size = gan.latent_dim, config.train.batch_size
  encoder = build_encoder(gan.config.model, spec, latent_dim)
  discriminator = build_gan(gan.config.model, spec).discriminator
  y0 = jnp.zeros((batch_size,), jnp.int32)  # E and D are unconditional: labels unused
  generate = gan.generate

  def init(key: Array) -> InvGANState:
    e_key, d_key, state_key = jax.random.split(key, 3)
    x = jnp.zeros((2,) + tuple(spec.shape))
    e_vars = encoder.init(e_key, x, y0[:2], train=True)
    d_vars = discriminator.init(d_key, x, y0[:2], train=True)
    steps = config.train.num_steps
    enc = NetState.create(apply_fn=encoder.apply, params=e_vars["params"],
                          tx=make_optimizer(config.optim.enc, steps),
                          batch_stats=e_vars.get("batch_stats", {}))
    d = NetState.create(apply_fn=discriminator.apply, params=d_vars["params"],
                        tx=make_optimizer(config.optim.d, steps),
                        batch_stats=d_vars.get("batch_stats", {}))
    return InvGANState(step=jnp.zeros((), jnp.int32), enc=enc, d=d, key=state_key)

  def d_logits(d: NetState, x: Array, params=None):
    out, stats = _apply(d, x, y0, True, params)
    return (out[0] if isinstance(out, (tuple, list)) else out), stats

  def train_step(state: InvGANState, batch: Batch) -> tuple[InvGANState, Metrics]:
    del batch  # E learns from G's samples only
    key = jax.random.fold_in(state.key, state.step)
    z = jax.random.normal(key, (batch_size, latent_dim))
    x_g = jax.lax.stop_gradient(generate(z))
    z_hat, _ = _apply(state.enc, x_g, y0, True)
    x_c = jax.lax.stop_gradient(generate(z_hat))

    def d_loss_fn(params):
      real, stats = d_logits(state.d, x_g, params)
      fake, stats = d_logits(state.d.replace(batch_stats=stats), x_c, params)
      return jnp.mean(jax.nn.softplus(-real) + jax.nn.softplus(fake)), stats

    (d_loss, d_stats), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(state.d.params)
    d = state.d.apply_gradients(grads=d_grads, batch_stats=d_stats)

    def e_loss_fn(params):
      z_hat, e_stats = _apply(state.enc, x_g, y0, True, params)
      x_c = generate(z_hat)
      l1 = jnp.mean(jnp.abs(x_c - x_g).reshape(batch_size, -1), axis=-1)
      recon = jnp.mean(jax.nn.relu(l1 - c.margin))
      latent = jnp.mean(jnp.square(z_hat - z))
      adv = jnp.mean(jax.nn.softplus(-d_logits(d, x_c)[0]))
      loss = c.recon_weight * recon + c.latent_weight * latent + c.adv_weight * adv
      return loss, (e_stats, dict(recon_l1=jnp.mean(l1), latent_mse=latent, e_adv=adv))

    (e_loss, (e_stats, metrics)), e_grads = jax.value_and_grad(
        e_loss_fn, has_aux=True)(state.enc.params)
    enc = state.enc.apply_gradients(grads=e_grads, batch_stats=e_stats)
    metrics.update(e_loss=e_loss, d_loss=d_loss)
    return state.replace(step=state.step + 1, enc=enc, d=d), metrics

  def encode(state: InvGANState, x: Array) -> Array:
    return _apply(state.enc, x, jnp.zeros((x.shape[0],), jnp.int32), False)[0]

  def eval_metrics(state: InvGANState, batch: Batch, key: Array) -> Metrics:
    """|E(G(z)) - z|^2 on fresh latents, and the reconstruction MSE of G(E(x)) on data."""
    z = jax.random.normal(key, (batch["x"].shape[0], latent_dim))
    return {"latent_mse": jnp.mean(jnp.square(encode(state, generate(z)) - z)),
            "recon_mse": jnp.mean(reconstruction_error(generate, encode(state, batch["x"]),
                                                       batch["x"]))}

  def sample(state: InvGANState, x: Array) -> Array:
    """Sample grids: reconstructions G(E(x)) of fixed held-out inputs."""
    return generate(encode(state, x))

  def noise(key: Array, n: int) -> Array:
    del key
    from jaxgen.data import get_dataset  # pylint: disable=g-import-not-at-top
    return jnp.asarray(get_dataset(config.dataset).sample(n, seed=config.seed)["x"])

  trainer = Trainer(init=init, train_step=train_step, sample=sample, noise=noise,
                    batches_per_step=1, eval_metrics=eval_metrics)
  return InvGAN(trainer=trainer, encode=encode, gan=gan)


@TRAINERS.register("invgan")
def build_invgan(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """InvGAN's encoder training against the frozen G of `invgan.gan_workdir`."""
  return invgan(config, spec).trainer
