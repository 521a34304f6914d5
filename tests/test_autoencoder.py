"""AE and VAE trainers: the KL term, learning, the shared GAN backbone, configs, resume."""

import math
import os
import types

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from scipy import stats

from jaxgen import data, train
from jaxgen import nn as jnn
from jaxgen.checkpoint import Checkpointer
from jaxgen.data import DataSpec
from jaxgen.models import build_encoder, build_gan
from jaxgen.trainers import build_trainer
from jaxgen.trainers.autoencoder import (autoencoder, bernoulli_nll, gaussian_kl,
                                         gaussian_nll)
from jaxgen.writers import read_metrics
from tests.conftest import load_config

FASHION = DataSpec("fashion_mnist", (32, 32, 1), 10, "image")


def _leaves(state):
  return [np.asarray(x) for x in jax.tree.leaves(jax.device_get(state))]


def _tiny(name: str, num_steps: int = 4, **train_overrides) -> ml_collections.ConfigDict:
  """Config `name` with narrow layers and a few steps, for runs of a few seconds."""
  config = load_config(name)
  config.model.width = 16
  config.train.update(batch_size=16, num_steps=num_steps, steps_per_call=2, log_every=2,
                      sample_every=4, checkpoint_every=4, progress_bar=False)
  config.train.update(train_overrides)
  return config


def _train(trainer, config, num_steps: int):
  """Trains `num_steps` steps of jitted train_step on the config's data; returns the state."""
  dataset = data.get_dataset(config.dataset)
  state = trainer.init(jax.random.PRNGKey(config.seed))
  step = jax.jit(trainer.train_step)
  batches = dataset.batches(config.train.batch_size, seed=config.seed)
  for _ in range(num_steps):
    state, metrics = step(state, {k: v[None] for k, v in next(batches).items()})
  assert all(np.isfinite(float(v)) for v in metrics.values())
  return state


def _held_out(config) -> dict:
  test = config.dataset.copy_and_resolve_references()
  test.split = "test"
  return data.get_dataset(test).sample(359, seed=0)  # the whole digits test split


def test_kl_matches_closed_form_with_full_covariance_and_monte_carlo():
  mean = jnp.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
  logvar = jnp.array([[-1.0, 0.3, 0.0], [0.0, 0.0, 0.0]])
  kl = gaussian_kl(mean, logvar)
  chex.assert_shape(kl, (2,))
  # KL(N(m, S) || N(0, I)) = (tr S + m'm - k - log det S) / 2 with S as a full matrix.
  cov = np.diag(np.exp(np.asarray(logvar[0], np.float64)))
  m = np.asarray(mean[0], np.float64)
  expected = 0.5 * (np.trace(cov) + m @ m - 3 - np.linalg.slogdet(cov)[1])
  np.testing.assert_allclose(kl[0], expected, rtol=1e-6)
  assert float(kl[1]) == 0.0  # the posterior equals the prior
  # Monte Carlo: E_q[log q(z) - log p(z)].
  std = np.exp(0.5 * np.asarray(logvar[0], np.float64))
  z = m + std * np.random.default_rng(0).standard_normal((400_000, 3))
  log_ratio = (stats.norm.logpdf(z, m, std) - stats.norm.logpdf(z)).sum(-1)
  stderr = log_ratio.std() / math.sqrt(len(z))
  assert abs(log_ratio.mean() - float(kl[0])) < 4 * stderr


def test_likelihoods_match_scipy():
  x = jnp.array([[-1.0, 0.0, 0.6, 1.0]])
  out = jnp.array([[-2.0, 0.5, 0.1, 3.0]])
  p = 1 / (1 + np.exp(-np.asarray(out, np.float64)))
  t = (np.asarray(x, np.float64) + 1) / 2
  np.testing.assert_allclose(bernoulli_nll(out, x),
                             -(t * np.log(p) + (1 - t) * np.log(1 - p)).sum(-1), rtol=1e-5)
  np.testing.assert_allclose(gaussian_nll(out, x, 0.3),
                             -stats.norm.logpdf(x, out, 0.3).sum(-1), rtol=1e-5)


@pytest.fixture(scope="module")
def digits_vae():
  """vae_digits (width 16) before and after 500 steps, and the digits test split."""
  config = load_config("vae_digits")
  config.model.width = 16
  parts = autoencoder(config, data.get_dataset(config.dataset).spec, variational=True)
  before = parts.trainer.init(jax.random.PRNGKey(config.seed))
  return types.SimpleNamespace(config=config, parts=parts, before=before,
                               after=_train(parts.trainer, config, 500),
                               held_out=_held_out(config))


def test_vae_held_out_elbo_improves_and_reconstruction_error_falls(digits_vae):
  evaluate = jax.jit(digits_vae.parts.trainer.eval_metrics)
  held_out, key = digits_vae.held_out, jax.random.PRNGKey(1)
  before = evaluate(digits_vae.before, held_out, key)
  after = evaluate(digits_vae.after, held_out, key)
  assert float(after["nelbo"]) < 0.7 * float(before["nelbo"])  # measured: 177 -> 105 nats
  assert float(after["mse"]) < 0.25 * float(before["mse"])     # measured: 0.56 -> 0.067
  assert float(after["kl"]) > 1.0  # the latents carry information (no posterior collapse)
  # Bernoulli: the discrete likelihood, so bits/dim = nats / (D ln 2).
  np.testing.assert_allclose(after["bpd"], after["nelbo"] / (16 * 16 * math.log(2)),
                             rtol=1e-5)
  # The KL metric is the closed form of the encoder's posterior; -ELBO = recon + KL.
  enc = digits_vae.after.enc
  h = enc.apply_fn({"params": enc.params, "batch_stats": enc.batch_stats},
                   held_out["x"], held_out["y"], train=False)
  chex.assert_shape(h, (359, 2 * digits_vae.config.model.latent_dim))
  mean, logvar = jnp.split(h, 2, axis=-1)
  np.testing.assert_allclose(after["kl"], jnp.mean(gaussian_kl(mean, logvar)), rtol=1e-5)
  np.testing.assert_allclose(after["nelbo"], after["recon"] + after["kl"], rtol=1e-5)


def test_sample_and_reconstruct_give_images_in_range(digits_vae):
  parts, state, batch = digits_vae.parts, digits_vae.after, digits_vae.held_out
  samples = jax.jit(parts.trainer.sample)(state, parts.trainer.noise(jax.random.PRNGKey(2), 5))
  recon = jax.jit(parts.reconstruct)(state, batch["x"][:5], batch["y"][:5])
  for images in (samples, recon):
    chex.assert_shape(images, (5, 16, 16, 1))
    assert float(jnp.min(images)) >= -1 and float(jnp.max(images)) <= 1
  # Reconstructions are much closer to their own inputs than to the other test images.
  err = np.asarray(jnp.mean(jnp.square(recon[:, None] - batch["x"][None, :5]), axis=(2, 3, 4)))
  assert np.mean(np.diag(err)) < 0.5 * np.mean(err[~np.eye(5, dtype=bool)])


def test_gaussian_vae_learns_and_reports_dequantised_bits_per_dim():
  config = load_config("vae_digits")
  config.model.output_activation = "tanh"
  config.loss.likelihood = "gaussian"
  config.loss.decoder_std = 0.2
  config.model.width = 16
  trainer = build_trainer(config, data.get_dataset(config.dataset).spec)
  held_out, key = _held_out(config), jax.random.PRNGKey(1)
  evaluate = jax.jit(trainer.eval_metrics)
  before = evaluate(trainer.init(jax.random.PRNGKey(0)), held_out, key)
  after = evaluate(_train(trainer, config, 150), held_out, key)
  assert float(after["nelbo"]) < float(before["nelbo"]) - 50
  assert float(after["mse"]) < 0.5 * float(before["mse"])
  # 8-bit data on [-1, 1] have bins of width 2/255: bpd = (nelbo/D + ln 127.5) / ln 2.
  dims = 16 * 16
  np.testing.assert_allclose(after["bpd"],
                             (after["nelbo"] / dims + math.log(127.5)) / math.log(2),
                             rtol=1e-5)


def test_ae_reconstruction_error_falls():
  config = load_config("vae_digits")
  config.trainer = "ae"
  config.model.output_activation = "tanh"
  config.loss.likelihood = "mse"
  config.model.width = 16
  trainer = build_trainer(config, data.get_dataset(config.dataset).spec)
  held_out, key = _held_out(config), jax.random.PRNGKey(1)
  evaluate = jax.jit(trainer.eval_metrics)
  before = evaluate(trainer.init(jax.random.PRNGKey(0)), held_out, key)
  after = evaluate(_train(trainer, config, 150), held_out, key)
  assert "kl" not in after and "nelbo" not in after
  np.testing.assert_allclose(after["recon"], after["mse"], rtol=1e-5)  # the MSE loss
  assert float(after["mse"]) < 0.25 * float(before["mse"])


def test_mlp_vae_trains_on_flattened_images():
  config = load_config("vae_digits")
  config.model.name = "mlp"
  config.model.width = 64
  config.train.batch_size = 32
  trainer = build_trainer(config, data.get_dataset(config.dataset).spec)
  state = _train(trainer, config, 3)
  chex.assert_shape(state.enc.params["Dense_3"]["kernel"], (64, 32))
  chex.assert_shape(trainer.sample(state, jnp.zeros((2, 16))), (2, 16, 16, 1))


def test_encoder_follows_the_discriminator_norm_including_spectral():
  config = _tiny("vae_digits")
  config.dataset.image_size = 8
  config.model.d_norm = "spectral"
  trainer = build_trainer(config, data.get_dataset(config.dataset).spec)
  state = _train(trainer, config, 2)
  sigmas = jnn.spectral_sigmas(state.enc.batch_stats)
  assert len(sigmas) == 1 and "BatchNorm_0" not in state.enc.batch_stats  # SNGAN-style D
  assert "bias" in state.enc.params["Conv_0"]


@pytest.mark.parametrize("name", ["vae_fashion_mnist", "ae_fashion_mnist"])
def test_decoder_param_tree_equals_the_dcgan_generator(name):
  config = load_config(name)
  gan_config = load_config("dcgan_fashion_mnist")
  gan_config.model.latent_dim = config.model.latent_dim
  key = jax.random.PRNGKey(0)
  ae_state = jax.eval_shape(build_trainer(config, FASHION).init, key)
  gan_state = jax.eval_shape(build_trainer(gan_config, FASHION).init, key)
  chex.assert_trees_all_equal_shapes_and_dtypes(ae_state.g.params, gan_state.g.params)
  chex.assert_trees_all_equal_shapes_and_dtypes(ae_state.g.batch_stats,
                                                gan_state.g.batch_stats)
  # The encoder mirrors the discriminator's convs (its last conv becomes a Dense layer).
  d_convs = {k: v for k, v in gan_state.d.params.items() if k != "Conv_3"}
  e_convs = {k: v for k, v in ae_state.enc.params.items() if k != "Dense_0"}
  chex.assert_trees_all_equal_shapes_and_dtypes(e_convs, d_convs)


def test_decoder_starts_from_the_gan_generator_init_of_the_same_seed():
  config = _tiny("vae_digits")
  config.model.output_activation = "tanh"
  config.loss.likelihood = "gaussian"
  gan_config = config.copy_and_resolve_references()
  gan_config.trainer = "gan"
  gan_config.loss = load_config("default").loss
  spec = data.get_dataset(config.dataset).spec
  vae = build_trainer(config, spec).init(jax.random.PRNGKey(3))
  gan = build_trainer(gan_config, spec).init(jax.random.PRNGKey(3))
  chex.assert_trees_all_equal(vae.g.params, gan.g.params)


@pytest.mark.parametrize("name", ["vae_fashion_mnist", "ae_fashion_mnist"])
def test_config_trains_checkpoints_and_restores(name, workdir):
  config = _tiny(name)
  config.dataset.image_size = 8  # as tests/conftest.py's tiny_dcgan: fast to compile
  if config.dataset.name == "fashion_mnist" and not os.path.isdir(
      "/usr/share/datasets/fashion-mnist"):
    pytest.skip("apt-get install dataset-fashion-mnist")
  state = train.train_and_evaluate(config, workdir)
  assert int(state.step) == 4
  records = read_metrics(workdir)
  assert [r["step"] for r in records] == [2, 4]
  expected = {"loss", "recon", "mse"} | ({"kl", "elbo"} if config.trainer == "vae" else set())
  assert expected <= set(records[-1])
  restored, step = Checkpointer(workdir).restore(state)
  assert step == 4
  for a, b in zip(_leaves(state), _leaves(restored), strict=True):
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)


def test_resumed_vae_digits_run_equals_uninterrupted_run(tmp_path):
  straight = train.train_and_evaluate(_tiny("vae_digits", 8), str(tmp_path / "a"))
  train.train_and_evaluate(_tiny("vae_digits", 4), str(tmp_path / "b"))
  resumed = train.train_and_evaluate(_tiny("vae_digits", 8), str(tmp_path / "b"))
  for a, b in zip(_leaves(straight), _leaves(resumed), strict=True):
    np.testing.assert_array_equal(a, b)
  assert [r["step"] for r in read_metrics(str(tmp_path / "b"))] == [2, 4, 6, 8]
  restored, step = Checkpointer(str(tmp_path / "b")).restore(resumed)
  assert step == 8
  for a, b in zip(_leaves(resumed), _leaves(restored), strict=True):
    np.testing.assert_array_equal(a, b)


def test_bad_config_values_give_one_line_errors():
  config = load_config("vae_digits")
  spec = data.get_dataset(config.dataset).spec
  config.loss.likelihood = "poisson"
  with pytest.raises(ValueError, match=r"^unknown loss.likelihood 'poisson'; choose one of: "
                     r"bernoulli, gaussian$"):
    build_trainer(config, spec)
  config.trainer = "ae"
  with pytest.raises(ValueError, match=r"choose one of: mse, bernoulli, gaussian$"):
    build_trainer(config, spec)
  config.loss.likelihood = "bernoulli"
  config.model.output_activation = "tanh"
  with pytest.raises(ValueError, match=r"set model.output_activation='none'"):
    build_trainer(config, spec)
  config.model.output_activation = "relu"
  with pytest.raises(ValueError, match=r"^unknown model.output_activation 'relu'; choose "
                     r"one of: tanh, none$"):
    build_gan(config.model, spec)
  model = ml_collections.ConfigDict(dict(name="resnet", width=8, latent_dim=4))
  with pytest.raises(ValueError, match=r"^model.name 'resnet' has no encoder; choose one "
                     r"of: dcgan, mlp$"):
    build_encoder(model, spec, 8)
