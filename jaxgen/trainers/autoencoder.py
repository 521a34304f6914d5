"""Autoencoders ('ae') and VAEs ('vae', Kingma & Welling 2014) whose decoder is the GAN generator.

The decoder is `build_gan(config.model, spec).generator`, so its parameter tree is the
GAN generator's and pruning masks transfer between the two. The encoder mirrors the
discriminator (jaxgen/models/encoders.py). With `loss.beta` != 1 the VAE is a beta-VAE
(Higgins et al. 2017). `optim.g` trains the decoder and `optim.enc` (else `optim.d`)
the encoder. Step randomness is `fold_in(state.key, state.step)`.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen import config_base
from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.metrics.likelihood import bits_per_dim
from jaxgen.models import build_encoder, build_gan
from jaxgen.optim import make_optimizer
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.gan import NetState

VAE_LIKELIHOODS = ("bernoulli", "gaussian")
AE_LIKELIHOODS = ("mse", "bernoulli", "gaussian")


@flax.struct.dataclass
class AEState:
  step: jax.Array   # updates done
  enc: NetState     # encoder
  g: NetState       # decoder = the GAN generator (named `g` like GANState.g on purpose)
  key: jax.Array    # base PRNG key; step keys are fold_in(key, step)


class Autoencoder(NamedTuple):
  """The trainer plus `reconstruct(state, x, y) -> images in [-1, 1]` (evaluation mode) and
  `loss(state, params, x, y, key) -> (loss, aux)`, the training loss of params (enc, g)."""
  trainer: Trainer
  reconstruct: Callable[[AEState, jax.Array, jax.Array], jax.Array]
  loss: Callable[..., tuple[jax.Array, tuple]]


# The `config.loss` block of an AE or VAE; its fields are documented in config_base.
loss_config = config_base.autoencoder_loss


def gaussian_kl(mean: jax.Array, logvar: jax.Array) -> jax.Array:
  """KL(N(mean, diag(exp(logvar))) || N(0, I)) per example in nats (Kingma & Welling, App. B)."""
  return 0.5 * jnp.sum(jnp.square(mean) + jnp.exp(logvar) - 1.0 - logvar, axis=-1)


def bernoulli_nll(logits: jax.Array, x: jax.Array) -> jax.Array:
  """-log p(x | logits) per example in nats, for targets (x + 1) / 2 in [0, 1]."""
  ce = optax.sigmoid_binary_cross_entropy(logits, (x + 1.0) / 2.0)
  return jnp.sum(ce.reshape(ce.shape[0], -1), axis=-1)


def gaussian_nll(mean: jax.Array, x: jax.Array, std: float) -> jax.Array:
  """-log N(x; mean, std^2 I) per example in nats."""
  nll = 0.5 * jnp.square((x - mean) / std) + jnp.log(std) + 0.5 * math.log(2 * math.pi)
  return jnp.sum(nll.reshape(nll.shape[0], -1), axis=-1)


def _likelihood_name(config: ml_collections.ConfigDict, allowed: tuple[str, ...]) -> str:
  name = allowed[0] if config.loss.likelihood == "auto" else config.loss.likelihood
  if name not in allowed:
    raise ConfigError(f"unknown loss.likelihood {name!r}; choose one of: {', '.join(allowed)}")
  return name


def _decoder_config(config: ml_collections.ConfigDict, likelihood: str):
  """config.model, with output_activation 'auto' as 'none' (logits) for a Bernoulli decoder."""
  activation = config.model.output_activation
  if likelihood != "bernoulli" or activation == "none":
    return config.model
  if activation != "auto":
    raise ConfigError(f"loss.likelihood 'bernoulli' needs decoder logits; set "
                      f"model.output_activation='none' (got {activation!r})")
  model = config.model.copy_and_resolve_references()
  with model.unlocked():
    model.output_activation = "none"
  return model


def _variables(net: NetState, params=None) -> dict:
  variables = {"params": net.params if params is None else params}
  if net.batch_stats:
    variables["batch_stats"] = net.batch_stats
  return variables


def _apply(net: NetState, inputs: jax.Array, y: jax.Array, train: bool, params=None):
  """Runs a network; returns (output, batch stats updated in training mode)."""
  if not train:
    return net.apply_fn(_variables(net, params), inputs, y, train=False), net.batch_stats
  out, updates = net.apply_fn(_variables(net, params), inputs, y, train=True,
                              mutable=["batch_stats"])
  return out, updates.get("batch_stats", net.batch_stats)


def autoencoder(config: ml_collections.ConfigDict, spec: DataSpec, *,
                variational: bool) -> Autoencoder:
  """An AE (deterministic code) or VAE (diagonal Gaussian posterior) for `config` on `spec`."""
  likelihood = _likelihood_name(config, VAE_LIKELIHOODS if variational else AE_LIKELIHOODS)
  beta, std, num_bins = config.loss.beta, config.loss.decoder_std, config.loss.num_bins
  # Checked when Python numbers; a sweep (jaxgen/sweeps) passes traced floats.
  if isinstance(beta, (int, float)) and beta < 0:
    raise ConfigError(f"loss.beta must be >= 0, got {beta}")
  if isinstance(std, (int, float)) and std <= 0:
    raise ConfigError(f"loss.decoder_std must be positive, got {std}")
  if num_bins < 2:
    raise ConfigError(f"loss.num_bins must be >= 2, got {num_bins}")
  models = build_gan(_decoder_config(config, likelihood), spec)
  latent_dim = models.latent_dim
  encoder = build_encoder(config.model, spec, 2 * latent_dim if variational else latent_dim)
  decoder = models.generator
  num_classes = max(spec.num_classes, 1)
  num_dims = math.prod(spec.shape)
  num_steps = config.train.num_steps
  # A Gaussian density of data in [-1, 1] with `num_bins` levels (bins of width
  # 2 / (num_bins - 1)) bounds their discrete likelihood; see bits_per_dim.
  bin_width = 2.0 / (num_bins - 1)
  data_scale = num_bins * bin_width if likelihood == "gaussian" else None

  def nll_fn(out: jax.Array, x: jax.Array) -> jax.Array:
    if likelihood == "bernoulli":
      return bernoulli_nll(out, x)
    if likelihood == "gaussian":
      return gaussian_nll(out, x, std)
    return jnp.mean(jnp.square(out - x).reshape(x.shape[0], -1), axis=-1)

  def to_image(out: jax.Array) -> jax.Array:
    """The decoder's mean in [-1, 1]: 2 sigmoid(logits) - 1 for a Bernoulli decoder."""
    return 2.0 * jax.nn.sigmoid(out) - 1.0 if likelihood == "bernoulli" else jnp.clip(out, -1, 1)

  def noise(key: jax.Array, n: int) -> jax.Array:
    return jax.random.normal(key, (n, latent_dim))

  def init(key: jax.Array) -> AEState:
    # The decoder takes the first key, as the generator in GANState: same seed, same init.
    g_key, e_key, state_key = jax.random.split(key, 3)
    y = jnp.zeros((2,), jnp.int32)
    g_vars = decoder.init(g_key, jnp.zeros((2, latent_dim)), y, train=True)
    e_vars = encoder.init(e_key, jnp.zeros((2,) + tuple(spec.shape)), y, train=True)
    g = NetState.create(apply_fn=decoder.apply, params=g_vars["params"],
                        tx=make_optimizer(config.optim.g, num_steps),
                        batch_stats=g_vars.get("batch_stats", {}))
    enc = NetState.create(apply_fn=encoder.apply, params=e_vars["params"],
                          tx=make_optimizer(config.optim.get("enc", config.optim.d), num_steps),
                          batch_stats=e_vars.get("batch_stats", {}))
    return AEState(step=jnp.zeros((), jnp.int32), enc=enc, g=g, key=state_key)

  def forward(enc: NetState, g: NetState, x: jax.Array, y: jax.Array, key: jax.Array,
              train: bool, params=(None, None)):
    """x -> (decoder output, KL per example, encoder stats, decoder stats)."""
    h, e_stats = _apply(enc, x, y, train, params[0])
    if variational:
      mean, logvar = jnp.split(h, 2, axis=-1)
      z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, mean.shape)  # reparam.
      kl = gaussian_kl(mean, logvar)
    else:
      z, kl = h, jnp.zeros(h.shape[:1])
    out, g_stats = _apply(g, z, y, train, params[1])
    return out, kl, e_stats, g_stats

  def summary(out: jax.Array, kl: jax.Array, x: jax.Array) -> Metrics:
    nll = nll_fn(out, x)
    metrics = {"loss": jnp.mean(nll + beta * kl), "recon": jnp.mean(nll),
               "mse": jnp.mean(jnp.square(to_image(out) - x))}
    if variational:
      metrics.update(kl=jnp.mean(kl), elbo=-jnp.mean(nll + kl))
    return metrics

  def loss(state: AEState, params: tuple, x: jax.Array, y: jax.Array, key: jax.Array):
    """The training loss (mean NLL + beta KL) of params (enc, g) on a batch, in training
    mode; aux = (encoder stats, decoder stats, metrics). Also SNIP/GraSP's objective."""
    out, kl, e_stats, g_stats = forward(state.enc, state.g, x, y, key, True, params)
    metrics = summary(out, kl, x)
    return metrics["loss"], (e_stats, g_stats, metrics)

  def train_step(state: AEState, batch: Batch) -> tuple[AEState, Metrics]:
    x, y = batch["x"][0], batch["y"][0]  # batches_per_step = 1
    key = jax.random.fold_in(state.key, state.step)
    grads, (e_stats, g_stats, metrics) = jax.grad(
        lambda params: loss(state, params, x, y, key), has_aux=True)(
            (state.enc.params, state.g.params))
    enc = state.enc.apply_gradients(grads=grads[0], batch_stats=e_stats)
    g = state.g.apply_gradients(grads=grads[1], batch_stats=g_stats)
    return state.replace(step=state.step + 1, enc=enc, g=g), metrics

  def eval_metrics(state: AEState, batch: Batch, key: jax.Array) -> Metrics:
    """Held-out metrics of a batch {'x': [B, ...], 'y': [B]}; the VAE's -ELBO in nats and bits/dim.

    The Gaussian likelihood is evaluated on uniformly dequantised data (bins of width
    2 / (loss.num_bins - 1)), which makes its bits/dim a bound for the discrete data;
    the Bernoulli one is the discrete likelihood of binary data (for grey levels, a
    cross-entropy).
    """
    x, y = batch["x"], batch["y"]
    z_key, u_key = jax.random.split(key)
    out, kl, _, _ = forward(state.enc, state.g, x, y, z_key, False)
    metrics = summary(out, kl, x)
    del metrics["loss"]
    if variational:
      if likelihood == "gaussian":
        x = x + bin_width * (jax.random.uniform(u_key, x.shape) - 0.5)
      nll = nll_fn(out, x)
      nelbo = nll + kl
      del metrics["elbo"]
      metrics.update(recon=jnp.mean(nll), nelbo=jnp.mean(nelbo), bpd=jnp.mean(
          bits_per_dim(nelbo, num_dims, data_scale=data_scale, num_bins=num_bins)))
    return metrics

  def sample(state: AEState, z: jax.Array) -> jax.Array:
    """Decoded prior latents in [-1, 1], in evaluation mode."""
    y = jnp.arange(z.shape[0]) % num_classes
    return to_image(state.g.apply_fn(_variables(state.g), z, y, train=False))

  def reconstruct(state: AEState, x: jax.Array, y: jax.Array) -> jax.Array:
    """Decodes the posterior mean (VAE) or code (AE) of x, in evaluation mode."""
    h, _ = _apply(state.enc, x, y, False)
    z = jnp.split(h, 2, axis=-1)[0] if variational else h
    return to_image(_apply(state.g, z, y, False)[0])

  trainer = Trainer(init=init, train_step=train_step, sample=sample, noise=noise,
                    batches_per_step=1, eval_metrics=eval_metrics)
  return Autoencoder(trainer=trainer, reconstruct=reconstruct, loss=loss)


@TRAINERS.register("vae")
def build_vae(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """A (beta-)VAE: Gaussian encoder, Bernoulli or Gaussian decoder (`loss.likelihood`)."""
  return autoencoder(config, spec, variational=True).trainer


@TRAINERS.register("ae")
def build_ae(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """A deterministic autoencoder trained on `loss.likelihood` ('mse' by default)."""
  return autoencoder(config, spec, variational=False).trainer
