"""Normalized-Wasserstein GAN (Balaji, Chellappa, Feizi, ICCV 2019): a mixture generator.

G is K component generators (one `nn.vmap`'d module, jaxgen/models/mixture.py) and
proportions pi = softmax(logits); the critic estimates W(P_X, sum_k pi_k P_Gk) (WGAN with
clipping, or the gradient penalty). As in the paper's code, every component draws a full
batch and the critic's fake term is the pi-weighted mean, E_pi D = sum_k pi_k E D(G_k(z)),
so the loss is differentiable in the logits (no sampling of component indices). The
logits are a third network state with their own optimizer (`config.optim.pi`).
"""

from __future__ import annotations

import flax
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen import losses
from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.models import build_gan
from jaxgen.models.mixture import MixtureGenerator, select_components
from jaxgen.optim import make_optimizer
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.gan import NetState, parse_penalties
from jaxgen.trainers.gan import _apply as apply_train_mode
from jaxgen.trainers.gan import _variables as net_variables

LOSSES = ("wgan", "wgan_gp")


@flax.struct.dataclass
class NWState:
  step: jax.Array   # generator updates done
  g: NetState       # the K component generators (leading axis K on every leaf)
  d: NetState       # the critic
  pi: NetState      # params {'logits': [K]}; pi = softmax(logits)
  key: jax.Array    # base PRNG key; step keys are fold_in(key, step)


def proportions(state: NWState) -> jax.Array:
  """The mixture proportions pi = softmax(logits) [K]."""
  return jax.nn.softmax(state.pi.params["logits"])


def sample_components(key: jax.Array, pi: jax.Array, n: int) -> jax.Array:
  """n component indices drawn from Categorical(pi) by inverse CDF."""
  return component_of_uniform(jax.random.uniform(key, (n,)), pi)


def component_of_uniform(u: jax.Array, pi: jax.Array) -> jax.Array:
  """The component k with cdf(k-1) <= u < cdf(k), for u in [0, 1)."""
  return jnp.minimum(jnp.searchsorted(jnp.cumsum(pi), u, side="right"), pi.shape[0] - 1)


def check_config(config: ml_collections.ConfigDict) -> None:
  if config.loss.name not in LOSSES:
    raise ConfigError(f"trainer 'nwgan' needs loss.name in {', '.join(LOSSES)}, "
                      f"got {config.loss.name!r}")
  if config.nwgan.num_components < 1:
    raise ConfigError(f"nwgan.num_components must be >= 1, got {config.nwgan.num_components}")
  if config.nwgan.latent_std <= 0:
    raise ConfigError(f"nwgan.latent_std must be > 0, got {config.nwgan.latent_std}")


@TRAINERS.register("nwgan")
def build(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """The NW-GAN trainer for `config.model` (one component), `config.nwgan` and `config.optim`."""
  check_config(config)
  models = build_gan(config.model, spec)
  num_components = config.nwgan.num_components
  generator = MixtureGenerator(models.generator, num_components)
  loss = losses.get_loss(config.loss.name)
  penalties, penalty_weight = parse_penalties(config, loss)
  clip = config.loss.clip_d_weights
  learn_pi = config.nwgan.learn_proportions
  latent_std = config.nwgan.latent_std
  n_critic = config.train.n_critic
  num_steps = config.train.num_steps
  latent_dim = models.latent_dim

  def latents(key: jax.Array, n: int) -> jax.Array:
    """z [K, n, latent] ~ N(0, latent_std^2): a full batch for each component."""
    return latent_std * jax.random.normal(key, (num_components, n, latent_dim))

  def noise(key: jax.Array, n: int) -> jax.Array:
    """Sampling input [n, latent + 1]: z ~ N(0, I) and a uniform that picks the component."""
    z_key, u_key = jax.random.split(key)
    return jnp.concatenate([jax.random.normal(z_key, (n, latent_dim)),
                            jax.random.uniform(u_key, (n, 1))], axis=1)

  def init(key: jax.Array) -> NWState:
    g_key, d_key, state_key = jax.random.split(key, 3)
    y = jnp.zeros((2,), jnp.int32)
    g_vars = generator.init(g_key, jnp.zeros((num_components, 2, latent_dim)), y, train=True)
    d_vars = models.discriminator.init(d_key, jnp.zeros((2,) + tuple(spec.shape)), y,
                                       train=True)
    g = NetState.create(apply_fn=generator.apply, params=g_vars["params"],
                        tx=make_optimizer(config.optim.g, num_steps),
                        batch_stats=g_vars.get("batch_stats", {}))
    d = NetState.create(apply_fn=models.discriminator.apply, params=d_vars["params"],
                        tx=make_optimizer(config.optim.d, num_steps * n_critic),
                        batch_stats=d_vars.get("batch_stats", {}))
    pi = NetState.create(apply_fn=None, params={"logits": jnp.zeros((num_components,))},
                         tx=make_optimizer(config.optim.pi, num_steps))
    return NWState(step=jnp.zeros((), jnp.int32), g=g, d=d, pi=pi, key=state_key)

  def weighted_fake_mean(d_logits: jax.Array, pi: jax.Array) -> jax.Array:
    """E_{x ~ sum_k pi_k P_Gk} D(x) from logits [K * B] of every component's batch."""
    per_component = jnp.mean(d_logits.reshape(num_components, -1), axis=1)
    return jnp.sum(pi * per_component)

  def d_update(g: NetState, d: NetState, pi_logits: jax.Array, x_real: jax.Array,
               key: jax.Array) -> tuple[NetState, Metrics]:
    # The gan trainer's key layout, so K = 1 reproduces its WGAN bit for bit.
    z_key, c_key, p_key = jax.random.split(key, 5)[:3]
    n = x_real.shape[0]
    y = jnp.zeros((n,), jnp.int32)
    pi = jax.nn.softmax(pi_logits)
    fakes, _ = apply_train_mode(g, latents(z_key, n), y)
    fakes = jax.lax.stop_gradient(fakes)  # [K, n, ...]
    flat_fakes = fakes.reshape((num_components * n,) + fakes.shape[2:])

    def loss_fn(params):
      real_logits, stats = apply_train_mode(d, x_real, y, params)
      d_after_real = d.replace(batch_stats=stats)
      fake_logits, stats = apply_train_mode(d_after_real, flat_fakes,
                                            jnp.zeros((flat_fakes.shape[0],), jnp.int32),
                                            params)
      fake_mean = weighted_fake_mean(fake_logits, pi)
      value = fake_mean - jnp.mean(real_logits)
      metrics = {"d_loss": value, "d_real": jnp.mean(real_logits), "d_fake": fake_mean}
      if penalties:
        # Interpolates need one fake per real example: draw components from pi.
        mixture_fakes = select_components(fakes, sample_components(c_key, pi, n))
        for (name, penalty), key in zip(penalties, jax.random.split(p_key, len(penalties))):
          d_fn = lambda x: apply_train_mode(d_after_real, x, y, params)[0]
          reg = penalty(d_fn, x_real, mixture_fakes, key)
          value = value + penalty_weight * reg
          metrics[f"d_{name}"] = reg
      return value, (stats, metrics)

    grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(d.params)
    d = d.apply_gradients(grads=grads, batch_stats=stats)
    if clip:  # WGAN weight clipping, as in the paper (0.01).
      d = d.replace(params=jax.tree.map(lambda p: jnp.clip(p, -clip, clip), d.params))
    return d, metrics

  def g_update(g: NetState, d: NetState, pi_state: NetState, n: int,
               key: jax.Array) -> tuple[NetState, NetState, Metrics]:
    z_key = jax.random.split(key, 3)[0]
    z = latents(z_key, n)
    y = jnp.zeros((n,), jnp.int32)
    y_flat = jnp.zeros((num_components * n,), jnp.int32)

    def loss_fn(g_params, pi_params):
      fakes, stats = apply_train_mode(g, z, y, g_params)
      flat = fakes.reshape((num_components * n,) + fakes.shape[2:])
      fake_logits = apply_train_mode(d, flat, y_flat)[0]
      value = -weighted_fake_mean(fake_logits, jax.nn.softmax(pi_params["logits"]))
      return value, stats

    (value, stats), (g_grads, pi_grads) = jax.value_and_grad(
        loss_fn, argnums=(0, 1), has_aux=True)(g.params, pi_state.params)
    g = g.apply_gradients(grads=g_grads, batch_stats=stats)
    if learn_pi:
      pi_state = pi_state.apply_gradients(grads=pi_grads)
    return g, pi_state, {"g_loss": value}

  def train_step(state: NWState, batch: Batch) -> tuple[NWState, Metrics]:
    keys = jax.random.split(jax.random.fold_in(state.key, state.step), n_critic + 1)

    def critic_step(d, inputs):
      x, key = inputs
      return d_update(state.g, d, state.pi.params["logits"], x, key)

    d, d_metrics = jax.lax.scan(critic_step, state.d, (batch["x"], keys[:-1]))
    g, pi_state, g_metrics = g_update(state.g, d, state.pi, batch["x"].shape[1], keys[-1])
    pi = jax.nn.softmax(pi_state.params["logits"])
    metrics = {**jax.tree.map(jnp.mean, d_metrics), **g_metrics,
               **{f"pi_{k}": pi[k] for k in range(num_components)}}
    return state.replace(step=state.step + 1, g=g, d=d, pi=pi_state), metrics

  def sample(state: NWState, noise_in: jax.Array) -> jax.Array:
    """Mixture samples in evaluation mode: example i from component cdf^-1(u_i) of pi."""
    z, u = noise_in[:, :-1] * latent_std, noise_in[:, -1]
    n = z.shape[0]
    all_components = state.g.apply_fn(
        net_variables(state.g), jnp.broadcast_to(z, (num_components,) + z.shape),
        jnp.zeros((n,), jnp.int32), train=False)
    return select_components(all_components, component_of_uniform(u, proportions(state)))

  return Trainer(init=init, train_step=train_step, sample=sample, noise=noise,
                 batches_per_step=n_critic)
