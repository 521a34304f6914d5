"""GAN training options: DiffAugment, zero-centred penalties, auxiliary classifiers, EMA."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import augment, data, losses
from jaxgen.trainers import build_trainer
from jaxgen.trainers.gan import d_class_loss, g_class_loss, penalty_terms
from tests.conftest import tiny_dcgan

KEY = jax.random.PRNGKey(0)


def _images(b=4, h=8, w=8, c=3):
  return jax.random.uniform(jax.random.PRNGKey(1), (b, h, w, c), minval=-1.0, maxval=1.0)


def test_translation_shifts_each_image_and_fills_with_zeros():
  x = _images()
  out = np.asarray(augment.translation(KEY, x))
  x = np.asarray(x)
  for i in range(x.shape[0]):
    matches = []
    for dy in range(-1, 2):
      for dx in range(-1, 2):
        padded = np.pad(x[i], ((1, 1), (1, 1), (0, 0)))
        shifted = padded[1 - dy:1 - dy + 8, 1 - dx:1 - dx + 8]
        matches.append(np.array_equal(shifted, out[i]))
    assert sum(matches) == 1  # exactly one integer shift within 1/8 of the size


def test_cutout_zeroes_one_square_per_image():
  x = jnp.ones((16, 8, 8, 1))
  out = np.asarray(augment.cutout(KEY, x))[..., 0]
  for image in out:
    rows, cols = np.nonzero(image == 0)
    assert 0 < rows.size <= 16  # a 4x4 square, possibly cut by the border
    assert rows.size == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)


def test_color_draws_parameters_per_example_and_is_differentiable():
  x = _images()
  out = augment.color(KEY, x)
  assert out.shape == x.shape
  shifts = np.asarray(jnp.mean(out - x, axis=(1, 2, 3)))
  assert np.ptp(shifts) > 1e-3
  grad = jax.grad(lambda x: jnp.sum(augment.diff_augment("color,translation,cutout",
                                                         KEY, x) ** 2))(x)
  assert np.isfinite(np.asarray(grad)).all() and np.abs(np.asarray(grad)).sum() > 0


def test_empty_policy_is_the_identity_and_bad_names_fail_in_one_line():
  x = _images()
  np.testing.assert_array_equal(augment.diff_augment("", KEY, x), x)
  with pytest.raises(ValueError, match="unknown train.diffaug 'flip'; choose one of: "):
    augment.parse_policy("color,flip")


@pytest.mark.parametrize("name,expected", [
    ("r1", lambda w: np.sum(w ** 2)),
    ("r2", lambda w: np.sum(w ** 2)),
    ("gp0", lambda w: np.sum(w ** 2)),
    ("dragan", lambda w: (np.linalg.norm(w) - 1.0) ** 2),
    ("gp", lambda w: (np.linalg.norm(w) - 1.0) ** 2),
])
def test_penalties_on_a_linear_discriminator(name, expected):
  # D(x) = <w, x> has input gradient w everywhere, so each penalty has a closed form.
  w = jnp.array([0.3, -1.2, 2.0])
  real = jax.random.normal(jax.random.PRNGKey(2), (5, 3))
  fake = jax.random.normal(jax.random.PRNGKey(3), (5, 3))
  value = losses.get_penalty(name)(lambda x: x @ w, real, fake, KEY)
  np.testing.assert_allclose(float(value), expected(np.asarray(w)), rtol=1e-5)


def _class_centred_critic():
  """D(x, y) = 0.5 ||x - c_y||^2: its input gradient x - c_y varies with x and with y."""
  centres = jnp.array([[2.0, 0.0, -1.0], [-3.0, 1.0, 0.5], [0.0, -2.0, 4.0]])
  return centres, lambda x, y: 0.5 * jnp.sum((x - centres[y]) ** 2, axis=-1)


@pytest.mark.parametrize("name", ["r1", "r2", "gp0", "dragan", "gp"])
def test_conditional_penalties_use_each_points_own_labels(name):
  # A penalty taken at the wrong points, or with the wrong labels, gives another value.
  centres, d_logits = _class_centred_critic()
  real = jax.random.normal(jax.random.PRNGKey(2), (6, 3))
  fake = jax.random.normal(jax.random.PRNGKey(3), (6, 3)) + 1.0
  paired = jax.random.normal(jax.random.PRNGKey(4), (6, 3)) - 1.0
  y_real, y_fake = jnp.array([0, 1, 2, 0, 1, 2]), jnp.array([2, 2, 0, 1, 0, 1])
  penalties = [(name, losses.get_penalty(name))]
  value = float(penalty_terms(penalties, d_logits, real, y_real, fake, y_fake, paired,
                              KEY)[name])
  (key,) = jax.random.split(KEY, 1)  # penalty_terms gives each penalty its own key
  sq = lambda g: np.sum(np.asarray(g) ** 2, axis=-1)
  if name == "r1":
    expected = np.mean(sq(real - centres[y_real]))
  elif name == "r2":
    expected = np.mean(sq(fake - centres[y_fake]))
  elif name in ("gp", "gp0"):  # interpolates of real and its same-class partner
    eps = jax.random.uniform(key, (6, 1))
    x_hat = eps * real + (1 - eps) * paired
    norms = sq(x_hat - centres[y_real])
    expected = np.mean(norms) if name == "gp0" else np.mean((np.sqrt(norms) - 1) ** 2)
  else:  # DRAGAN: real points perturbed by noise, with the real labels
    k_noise, k_mix = jax.random.split(key)
    std = jnp.std(real, axis=0, keepdims=True)
    noisy = real + 0.5 * std * jax.random.uniform(k_noise, real.shape)
    alpha = jax.random.uniform(k_mix, (6, 1))
    x_hat = alpha * real + (1 - alpha) * noisy
    expected = np.mean((np.sqrt(sq(x_hat - centres[y_real])) - 1) ** 2)
  np.testing.assert_allclose(value, expected, rtol=1e-5)


def _ce(logits, labels):
  logits = np.asarray(logits, np.float64)
  log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  return -np.mean(log_p[np.arange(len(labels)), labels])


def test_acgan_and_adcgan_class_terms():
  k = 3
  rng = np.random.default_rng(0)
  y_real, y_fake = np.array([0, 2, 1]), np.array([1, 1, 0])
  cls_real, cls_fake = rng.normal(size=(3, k)), rng.normal(size=(3, k))
  d = d_class_loss("acgan", k, jnp.asarray(cls_real), jnp.asarray(cls_fake),
                   jnp.asarray(y_real), jnp.asarray(y_fake))
  g = g_class_loss("acgan", k, jnp.asarray(cls_fake), jnp.asarray(y_fake))
  np.testing.assert_allclose(d, _ce(cls_real, y_real) + _ce(cls_fake, y_fake), rtol=1e-5)
  np.testing.assert_allclose(g, _ce(cls_fake, y_fake), rtol=1e-5)
  cls_real, cls_fake = rng.normal(size=(3, 2 * k)), rng.normal(size=(3, 2 * k))
  d = d_class_loss("adcgan", k, jnp.asarray(cls_real), jnp.asarray(cls_fake),
                   jnp.asarray(y_real), jnp.asarray(y_fake))
  g = g_class_loss("adcgan", k, jnp.asarray(cls_fake), jnp.asarray(y_fake))
  np.testing.assert_allclose(d, _ce(cls_real, y_real) + _ce(cls_fake, y_fake + k),
                             rtol=1e-5)
  np.testing.assert_allclose(g, _ce(cls_fake, y_fake) - _ce(cls_fake, y_fake + k),
                             rtol=1e-5)


def test_generator_ema_follows_its_recursion_and_is_used_for_samples():
  config = tiny_dcgan()
  config.train.ema_decay = 0.5
  config.train.ema_start = 2
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  state = trainer.init(KEY)
  step = jax.jit(trainer.train_step)
  expected = state.g.params
  stream = dataset.batches(config.train.batch_size, seed=0)
  for i in range(4):
    batch = {k: v[None] for k, v in next(stream).items()}
    state, _ = step(state, batch)
    decay = 0.5 if i >= 2 else 0.0  # before ema_start the EMA copies G
    expected = jax.tree.map(lambda e, p: decay * e + (1 - decay) * p,
                            expected, state.g.params)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7),
               state.g_ema, expected)
  z = trainer.noise(KEY, 4)
  variables = {"params": state.g_ema, "batch_stats": state.g.batch_stats}
  np.testing.assert_allclose(trainer.sample(state, z),
                             state.g.apply_fn(variables, z, None, train=False), atol=1e-6)
  assert not np.allclose(trainer.sample(state, z),
                         state.g.apply_fn({**variables, "params": state.g.params}, z,
                                          None, train=False))


def test_conditional_gan_trains_with_interpolate_and_fake_penalties():
  # The concat D reads labels, so GP interpolates need same-class fakes (an extra G pass).
  config = tiny_dcgan(num_steps=2)
  config.model.cond = "concat"
  config.model.d_norm = "layer"
  config.loss.penalty = "gp,r2"
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  state = trainer.init(KEY)
  batch = next(dataset.batches(16, seed=0))
  batch = {k: jnp.asarray(v)[None] for k, v in batch.items()}
  _, metrics = jax.jit(trainer.train_step)(state, batch)
  assert np.isfinite(float(metrics["d_gp"])) and float(metrics["d_r2"]) > 0
