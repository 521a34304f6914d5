"""Mixed precision (train.compute_dtype): bfloat16 activations train; float32 is unchanged."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import data, evaluate, metrics, train
from jaxgen.errors import ConfigError
from jaxgen.models import build_gan
from jaxgen.trainers import build_trainer
from tests.conftest import tiny_dcgan, tiny_ring8
from tests.test_classifier import digits_classifier_dir  # noqa: F401  (fixture)


def _apply(module, variables, x, *labels):
  """Output, input gradient, parameter gradients and new BatchNorm stats in train mode."""
  def f(params, x):
    out, new = module.apply({**variables, "params": params}, x, *labels, train=True,
                            mutable=["batch_stats"])
    return jnp.sum(out ** 2), (out, new)
  (_, (out, new)), grads = jax.value_and_grad(f, argnums=(0, 1), has_aux=True)(
      variables["params"], x)
  return out, grads, new


def test_float32_modules_compute_what_modules_without_a_dtype_do():
  """dtype=float32 (the explicit casts) equals dtype=None, the code before mixed precision."""
  config = tiny_dcgan()
  models = build_gan(config.model, data.get_dataset(config.dataset).spec)
  z = jax.random.normal(jax.random.PRNGKey(1), (8, models.latent_dim))
  x = jax.random.uniform(jax.random.PRNGKey(2), (8, 8, 8, 1), minval=-1, maxval=1)
  for net, inputs in ((models.generator, z), (models.discriminator, x)):
    assert net.dtype is None  # float32 builds the modules as before
    variables = net.init(jax.random.PRNGKey(0), inputs, train=False)
    a = _apply(net, variables, inputs)
    b = _apply(net.clone(dtype=jnp.float32), variables, inputs)
    for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
      assert u.dtype == jnp.float32
      np.testing.assert_array_equal(u, v)


def test_bfloat16_runs_matmuls_in_bfloat16_and_keeps_float32_state():
  config = tiny_dcgan()
  config.train.compute_dtype = "bfloat16"
  spec = data.get_dataset(config.dataset).spec
  models = build_gan(config.model, spec, "bfloat16")
  z = jnp.ones((4, models.latent_dim))
  variables = models.generator.init(jax.random.PRNGKey(0), z, train=False)
  jaxpr = str(jax.make_jaxpr(lambda v: models.generator.apply(
      v, z, train=True, mutable=["batch_stats"]))(variables))
  products = [l for l in jaxpr.splitlines() if "dot_general" in l or "conv_general" in l]
  assert products and all("bf16[" in l.split("=")[0] for l in products), products[:3]
  out, _, new = _apply(models.generator, variables, z)
  assert out.dtype == jnp.float32  # images, and the losses on them, in float32
  assert all(v.dtype == jnp.float32 for v in jax.tree.leaves(new))  # BatchNorm stats
  state = build_trainer(config, spec).init(jax.random.PRNGKey(0))
  floats = {jnp.result_type(v) for v in jax.tree.leaves(state)
            if jnp.issubdtype(jnp.result_type(v), jnp.floating)}
  assert floats == {jnp.dtype(jnp.float32)}, floats  # params and optimizer state


def _fid_digits(config, trainer, dataset, state, classifier_dir):
  """FID-digits (jaxgen's digits classifier features) of 500 samples of `state`."""
  config = config.copy_and_resolve_references()
  config.eval.update(num_samples=500, feature_net_dir=classifier_dir)
  evaluator = evaluate.Evaluator(config, trainer, dataset)
  return evaluator.evaluate(state, evaluate.eval_key(0))["fid_digits"]


def _pixel_fid(trainer, state, real):
  samples = trainer.sample(state, trainer.noise(jax.random.PRNGKey(7), len(real)))
  return metrics.fid_from_features(np.asarray(samples).reshape(len(real), -1),
                                   real.reshape(len(real), -1))


def _train_and_measure(config, workdir, classifier_dir):
  """Trains `config`; returns (pixel FID, FID-digits), each as (at init, after training)."""
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  real = dataset.sample(500, seed=1)["x"]
  init = trainer.init(jax.random.PRNGKey(config.seed))
  before = _pixel_fid(trainer, init, real)
  fid_before = _fid_digits(config, trainer, dataset, init, classifier_dir)
  state = train.train_and_evaluate(config, workdir)  # raises if a loss is not finite
  after = _pixel_fid(trainer, jax.device_get(state), real)
  fid_after = _fid_digits(config, trainer, dataset, state, classifier_dir)
  print(f"pixel FID {before:.2f} -> {after:.2f}; FID-digits {fid_before:.3f} -> {fid_after:.3f}")
  return (before, after), (fid_before, fid_after)


def test_bfloat16_dcgan_trains(workdir, digits_classifier_dir):  # noqa: F811
  """Losses finite; pixel Fréchet distance to real digits below 0.6x and FID-digits below 0.5x.

  (Measured at 16x16: pixel 143.6 -> 44.5, FID-digits 119.2 -> 16.7 after 300 steps.)"""
  config = tiny_dcgan(300, steps_per_call=10, log_every=50, sample_every=0,
                      checkpoint_every=0, compute_dtype="bfloat16")
  config.dataset.image_size = 16  # the size of the digits classifier behind FID-digits
  config.eval.every = 0
  (before, after), (fid_before, fid_after) = _train_and_measure(
      config, workdir, digits_classifier_dir)
  assert after < 0.6 * before
  assert fid_after < 0.5 * fid_before


def test_bfloat16_needs_a_model_that_supports_it():
  config = tiny_ring8()
  config.train.compute_dtype = "bfloat16"
  with pytest.raises(ConfigError, match="compute_dtype=bfloat16 is supported by"):
    build_trainer(config, data.get_dataset(config.dataset).spec)


def tiny_sngan(num_steps: int = 100, **train_fields):
  """SNGAN (ResNet G with BatchNorm, spectrally normalized ResNet D, hinge) on digits 16x16."""
  config = tiny_dcgan(num_steps, steps_per_call=10, log_every=50, sample_every=0,
                      checkpoint_every=0, batch_size=32, **train_fields)
  config.dataset.image_size = 16
  config.model.update(name="resnet", width=8, latent_dim=16, g_norm="batch",
                      d_norm="spectral")
  config.loss.name = "hinge"
  for net in ("g", "d"):
    config.optim[net].update(lr=4e-4, b1=0.0, b2=0.9)
  config.eval.every = 0
  return config


def _sngan_nets(dtype: str, cond: str = "", attention_res: int = 0, name: str = "resnet"):
  config = tiny_sngan()
  # XLA's convs: the same dtype logic as the CPU matmul lowering, compiled much faster.
  config.model.update(name=name, cond=cond, attention_res=attention_res, embed_dim=8,
                      conv_impl="xla")
  if name == "biggan":  # 4 * width channels
    config.model.update(g_norm="spectral", width=2)
  spec = data.get_dataset(config.dataset).spec
  return build_gan(config.model, spec, dtype), spec


def test_float32_sngan_computes_what_modules_without_a_dtype_do():
  """dtype=float32 equals dtype=None (the code path before mixed precision) bit for bit:
  outputs, gradients and new BatchNorm / spectral-norm statistics of G and D (with
  class-conditional BatchNorm, self-attention and a projection head, so every layer)."""
  models, spec = _sngan_nets("float32", "projection", 8)
  z = jax.random.normal(jax.random.PRNGKey(1), (8, models.latent_dim))
  x = jax.random.uniform(jax.random.PRNGKey(2), (8,) + spec.shape, minval=-1, maxval=1)
  y = jnp.arange(8) % spec.num_classes
  for net, inputs in ((models.generator, z), (models.discriminator, x)):
    assert net.dtype is None  # float32 builds the modules as before
    variables = net.init(jax.random.PRNGKey(0), inputs, y, train=False)
    a = _apply(net, variables, inputs, y)
    b = _apply(net.clone(dtype=jnp.float32), variables, inputs, y)
    for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
      assert u.dtype == jnp.float32
      np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("name", ["resnet", "biggan"])
def test_bfloat16_sngan_layers_run_in_bfloat16_and_keep_float32_state(name):
  """Every conv, dense, attention and BatchNorm output of G and D is bfloat16; images,
  D's pooled features and logits, BatchNorm and spectral-norm statistics are float32
  (and BigGAN's shared class embedding, a table lookup)."""
  models, spec = _sngan_nets("bfloat16", "projection", 8, name)
  z = jnp.ones((4, models.latent_dim))
  x = jnp.zeros((4,) + spec.shape)
  y = jnp.arange(4)
  for net, inputs in ((models.generator, z), (models.discriminator, x)):
    variables = net.init(jax.random.PRNGKey(0), inputs, y, train=False)
    out, new = net.apply(variables, inputs, y, train=True, capture_intermediates=True,
                         mutable=["batch_stats", "intermediates"])
    assert out.dtype == jnp.float32
    layers = {jax.tree_util.keystr(p): v.dtype for p, v in
              jax.tree_util.tree_flatten_with_path(new["intermediates"])[0]}
    float32 = {p for p, d in layers.items() if d == jnp.float32}
    expected = {p for p in layers if p.startswith(("['__call__']", "['shared']"))
                or "DiscriminatorHead" in p or p.startswith("['ResNetFeatures_0']['__call__']")}
    assert len(layers) > 20 and float32 == expected, sorted(float32 ^ expected)
    stats = jax.tree.leaves(new["batch_stats"])
    assert stats and all(v.dtype == jnp.float32 for v in stats)


def test_bfloat16_sngan_trains(workdir, digits_classifier_dir):  # noqa: F811
  """Losses finite; pixel Fréchet distance and FID-digits both fall below 0.5x.

  (Measured: pixel 300.0 -> 97.2, FID-digits 41.9 -> 13.2 after 100 steps.)"""
  config = tiny_sngan(100, compute_dtype="bfloat16")
  (before, after), (fid_before, fid_after) = _train_and_measure(
      config, workdir, digits_classifier_dir)
  assert after < 0.5 * before
  assert fid_after < 0.5 * fid_before
