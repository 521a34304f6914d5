"""Normalized-Wasserstein GAN: the vmapped mixture generator, the trainer, the NW estimator."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxgen import config_check, data
from jaxgen.losses import normalized_wasserstein as nw
from jaxgen.models import build_gan
from jaxgen.models.mixture import MixtureGenerator
from jaxgen.trainers import build_trainer
from jaxgen.trainers.nwgan import proportions
from tests.conftest import load_config


def _tiny_config(num_components=3, **nwgan):
  config = load_config("nwgan_mixture_imbalanced")
  config.nwgan.num_components = num_components
  config.nwgan.update(nwgan)
  config.model.hidden_sizes = (8, 8)
  config.model.width = 16
  config.train.batch_size = 32
  config.train.n_critic = 2
  return config


def _batch(dataset, config, step=0):
  stream = dataset.batches(config.train.batch_size, seed=0, start=step * config.train.n_critic)
  group = [next(stream) for _ in range(config.train.n_critic)]
  return {k: jnp.asarray(np.stack([b[k] for b in group])) for k in group[0]}


def test_mixture_samples_follow_the_proportions():
  """Components set to emit constant points 0, 1, 2: over 20k samples their frequencies
  match pi = (0.6, 0.3, 0.1) (chi-square p > 1e-3, each within 0.01)."""
  config = _tiny_config()
  trainer = build_trainer(config, data.get_dataset(config.dataset).spec)
  state = trainer.init(jax.random.PRNGKey(0))
  params = jax.tree.map(jnp.zeros_like, state.g.params)
  last = sorted(params["component"])[-1]  # the output Dense layer
  params["component"][last]["bias"] = jnp.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
  pi = np.array([0.6, 0.3, 0.1])
  state = state.replace(g=state.g.replace(params=params),
                        pi=state.pi.replace(params={"logits": jnp.log(jnp.asarray(pi))}))
  np.testing.assert_allclose(proportions(state), pi, rtol=1e-6)
  x = np.asarray(trainer.sample(state, trainer.noise(jax.random.PRNGKey(1), 20_000)))
  counts = np.bincount(np.rint(x[:, 0]).astype(int), minlength=3)
  assert counts.sum() == 20_000
  assert stats.chisquare(counts, 20_000 * pi).pvalue > 1e-3
  np.testing.assert_allclose(counts / 20_000, pi, atol=0.01)


def test_gradients_reach_the_logits_only_when_learned():
  """One step of WGAN-GP (an unclipped critic, so the signal is not ~1e-9) with Adam 1e-2
  on the logits moves them by ~lr; with learn_proportions = False they stay at 0."""
  config = _tiny_config()
  config.loss.name, config.loss.clip_d_weights = "wgan_gp", 0.0
  config.optim.pi.name = "adam"
  dataset = data.get_dataset(config.dataset)
  batch = _batch(dataset, config)
  for learn in (True, False):
    config.nwgan.learn_proportions = learn
    trainer = build_trainer(config, dataset.spec)
    state = trainer.init(jax.random.PRNGKey(0))
    new_state, metrics = jax.jit(trainer.train_step)(state, batch)
    moved = np.abs(np.asarray(new_state.pi.params["logits"])).max()
    assert (moved > 1e-3) if learn else (moved == 0.0)
    assert float(sum(metrics[f"pi_{k}"] for k in range(3))) == pytest.approx(1.0, abs=1e-6)


def test_one_component_reproduces_the_plain_wgan_bit_for_bit():
  """K = 1 from the same weights, batches and keys: after 3 steps the NW-GAN's G and D
  equal the gan trainer's WGAN (clipping, RMSprop) exactly."""
  config = _tiny_config(num_components=1)
  config.model.name = "mlp"
  config.model.depth = 2
  config.model.latent_dim = 4
  config.nwgan.latent_std = 1.0
  dataset = data.get_dataset(config.dataset)
  wgan_config = config.copy_and_resolve_references()
  wgan_config.trainer = "gan"
  nw_trainer = build_trainer(config, dataset.spec)
  wgan_trainer = build_trainer(wgan_config, dataset.spec)
  wgan = wgan_trainer.init(jax.random.PRNGKey(0))
  state = nw_trainer.init(jax.random.PRNGKey(0))
  g_params = {"component": jax.tree.map(lambda p: p[None], wgan.g.params)}
  state = state.replace(g=state.g.replace(params=g_params,
                                          opt_state=state.g.tx.init(g_params)))
  nw_step, wgan_step = jax.jit(nw_trainer.train_step), jax.jit(wgan_trainer.train_step)
  for step in range(3):
    batch = _batch(dataset, config, step)
    state, _ = nw_step(state, batch)
    wgan, _ = wgan_step(wgan, batch)
  for a, b in zip(jax.tree.leaves(state.d.params), jax.tree.leaves(wgan.d.params)):
    assert np.array_equal(a, b)
  for a, b in zip(jax.tree.leaves(state.g.params["component"]),
                  jax.tree.leaves(wgan.g.params)):
    assert np.array_equal(a[0], b)
  assert not np.array_equal(jax.tree.leaves(state.g.params)[0][0],
                            jax.tree.leaves(nw_trainer.init(jax.random.PRNGKey(0)).g.params)[0][0])


MEANS = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])


def _mixture(rng, pi, n, std=0.3):
  k = rng.choice(3, n, p=pi)
  return jnp.asarray(MEANS[k] + std * rng.standard_normal((n, 2)), jnp.float32)


def test_wasserstein_matches_the_closed_form_between_gaussians():
  """Debiased Sinkhorn (eps 0.05) between N(0, I) and N((3, 0), diag(1, 4)) samples vs the
  closed form W2^2 = |dm|^2 + sum (sqrt(s1) - sqrt(s2))^2 = 9 + 1."""
  rng = np.random.default_rng(0)
  a = rng.standard_normal((300, 2))
  b = rng.standard_normal((300, 2)) * np.array([1.0, 2.0]) + np.array([3.0, 0.0])
  assert float(nw.wasserstein(jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32),
                              epsilon=0.05)) == pytest.approx(10.0, rel=0.1)


def test_normalized_wasserstein_ignores_swapped_proportions_but_w_does_not():
  """Shared components N(m_k, 0.3^2 I): X has pi (0.7, 0.2, 0.1), Y (0.1, 0.2, 0.7).
  W2^2(X, Y) ~ 0.6 |m_1 - m_3|^2 = 9.6 (moving the excess mass by translation); NW is below
  5% of it and at the sampling floor NW(X, X') of two samples of X; the fitted pi are
  X's and Y's."""
  rng = np.random.default_rng(0)
  components = [_mixture(rng, np.eye(3)[k], 60) for k in range(3)]
  x, x2 = _mixture(rng, [0.7, 0.2, 0.1], 200), _mixture(rng, [0.7, 0.2, 0.1], 200)
  y = _mixture(rng, [0.1, 0.2, 0.7], 200)
  estimate = jax.jit(lambda a, b: nw.normalized_wasserstein(
      a, b, components, epsilon=0.05, fit_epsilon=0.5, steps=40, learning_rate=0.15))
  swapped, same = estimate(x, y), estimate(x, x2)
  w_swapped = float(nw.wasserstein(x, y, epsilon=0.05))
  assert w_swapped == pytest.approx(9.6, rel=0.2)
  assert float(swapped.distance) < 0.05 * w_swapped
  assert float(swapped.distance) < 2 * float(same.distance)
  np.testing.assert_allclose(swapped.pi_x, [0.7, 0.2, 0.1], atol=0.1)
  np.testing.assert_allclose(swapped.pi_y, [0.1, 0.2, 0.7], atol=0.1)


def test_reference_init_spreads_the_components():
  """model.reference_init (the reference code's init): every bias within PyTorch's
  +-1/sqrt(fan_in) and not all zero, so the K components start at distinct offsets
  (pairwise > 0.05 apart), where flax's zero biases put every component at the origin."""
  means = {}
  for reference_init in (False, True):
    config = _tiny_config(num_components=4)
    config.model.hidden_sizes = (64, 64, 64)
    config.model.reference_init = reference_init
    config_check.validate(config)  # the flag passes the run's config check
    models = build_gan(config.model, data.get_dataset(config.dataset).spec)
    generator = MixtureGenerator(models.generator, 4)
    z = jnp.zeros((4, 1, config.model.latent_dim))
    variables = generator.init(jax.random.PRNGKey(0), z)
    means[reference_init] = np.asarray(generator.apply(variables, z))[:, 0]
    if reference_init:
      layers = variables["params"]["component"]
      for name in sorted(layers):
        fan_in = layers[name]["kernel"].shape[-2]
        bias = np.asarray(layers[name]["bias"])
        assert np.all(np.abs(bias) <= 1 / np.sqrt(fan_in)) and np.any(bias != 0), name
  assert np.allclose(means[False], 0.0)
  gaps = np.linalg.norm(means[True][:, None] - means[True][None], axis=-1)
  assert gaps[np.triu_indices(4, 1)].min() > 0.05
