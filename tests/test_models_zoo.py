"""The model zoo: every architecture x conditioning builds, runs and differentiates; the
shared pieces (attention, heads, conditional BN, orthogonal regularization, truncation)
match their formulas; bad combinations fail with one line."""

import functools
import math

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from jaxgen import nn as jnn
from jaxgen.data import DataSpec
from jaxgen.losses.orthogonal import orthogonal_penalty, orthogonal_regularization
from jaxgen.models import build_gan
from jaxgen.models.attention import SelfAttention
from jaxgen.models.biggan import truncated_noise
from jaxgen.models.conditioning import (HEAD_CONDS, ConditionalBatchNorm,
                                        DiscriminatorHead, concat_one_hot)

CONDS = ["", "concat", "projection", "acgan", "adcgan"]
K = 10
IMAGES = {side: DataSpec(f"fake{side}", (side, side, 3), K, "image") for side in (32, 64)}
POINTS = DataSpec("points", (2,), 8, "points")
# Compiling is what costs time here; unoptimised XLA compiles ~2x faster.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def _config(name, cond, **kw):
  fields = dict(name=name, width=4, latent_dim=12, cond=cond, g_norm="batch",
                d_norm="batch" if name == "dcgan" else "spectral",
                attention_res=16 if name in ("resnet", "biggan") else 0,
                conv_impl="xla")  # compiles faster; matmul == xla is tests/test_nn_conv.py
  fields.update(kw)
  return ml_collections.ConfigDict(fields)


def _filled(module, *args):
  """Variables of `module` with init's shapes (traced, not compiled: XLA's threefry is
  slow to compile) filled from numpy; BN statistics start at mean 0, variance 1."""
  shapes = jax.eval_shape(lambda: module.init(jax.random.PRNGKey(0), *args))
  rng = np.random.default_rng(0)

  def fill(path, leaf):
    name = jax.tree_util.keystr(path)
    if name.endswith("['var']") or name.endswith("sigma']"):
      return jnp.ones(leaf.shape, leaf.dtype)
    if name.endswith("['mean']"):
      return jnp.zeros(leaf.shape, leaf.dtype)
    scale = 1.0 / math.sqrt(math.prod(leaf.shape[:-1]) or 1)
    return jnp.asarray(rng.normal(0.0, scale, leaf.shape), leaf.dtype)

  return jax.tree_util.tree_map_with_path(fill, shapes)


def _jit(fn, **kwargs):
  """fn (e.g. a module's init or apply) jitted with `kwargs` bound, compiled fast."""
  return jax.jit(functools.partial(fn, **kwargs), compiler_options=FAST_COMPILE)


def _total(out):
  return sum(jnp.sum(o) for o in jax.tree.leaves(out))


CASES = ([("dcgan", 32, c) for c in CONDS] + [("mlp", 0, c) for c in CONDS]
         + [("resnet", 32, c) for c in CONDS] + [("resnet", 64, c) for c in CONDS]
         + [("biggan", 32, c) for c in CONDS] + [("biggan", 64, "projection")])


def _models(name, side, cond):
  spec = IMAGES[side] if side else POINTS
  g_norm = "spectral" if name == "biggan" else "batch"
  return build_gan(_config(name, cond, g_norm=g_norm), spec), spec


def _inputs(models, spec, b=4):
  z = jnp.asarray(np.random.default_rng(0).normal(size=(b, models.latent_dim)), jnp.float32)
  return z, jnp.arange(b) % spec.num_classes, jnp.zeros((b,) + spec.shape)


def _g_to_d_grads(models, g_vars, d_vars, z, y):
  """Gradients w.r.t. G's and D's params of one training-mode pass through G then D,
  summing every D output."""

  def loss(g_params, d_params, g_vars, d_vars):
    x, _ = models.generator.apply({**g_vars, "params": g_params}, z, y, train=True,
                                  mutable=["batch_stats"])
    d_out, _ = models.discriminator.apply({**d_vars, "params": d_params}, x, y,
                                          train=True, mutable=["batch_stats"])
    return _total(d_out)

  return jax.grad(loss, argnums=(0, 1))(g_vars["params"], d_vars["params"], g_vars, d_vars)


def _leaves(tree):
  return {jax.tree_util.keystr(p): l for p, l in jax.tree_util.tree_leaves_with_path(tree)}


@pytest.mark.parametrize("name,side,cond", CASES)
def test_every_architecture_and_cond_builds_with_the_right_shapes_and_wiring(name, side,
                                                                             cond):
  """Traced, not compiled: output and gradient shapes, and where the labels enter."""
  models, spec = _models(name, side, cond)
  z, y, x = _inputs(models, spec)
  g_vars = jax.eval_shape(models.generator.init, jax.random.PRNGKey(0), z, y)
  d_vars = jax.eval_shape(models.discriminator.init, jax.random.PRNGKey(0), x, y)
  fake = jax.eval_shape(lambda v: models.generator.apply(v, z, y, train=False), g_vars)
  chex.assert_shape(fake, (4,) + spec.shape)
  out = jax.eval_shape(lambda v: models.discriminator.apply(v, x, y, train=False), d_vars)
  k = {"acgan": 1, "adcgan": 2}.get(cond, 0) * spec.num_classes
  if k:
    chex.assert_shape(out, ((4,), (4, k)))
  else:
    chex.assert_shape(out, (4,))
  grads = jax.eval_shape(lambda g, d: _g_to_d_grads(models, g, d, z, y), g_vars, d_vars)
  chex.assert_trees_all_equal_shapes_and_dtypes(grads, (g_vars["params"], d_vars["params"]))

  g_params, d_params = _leaves(g_vars["params"]), _leaves(d_vars["params"])
  # G: one-hot(y) appended to z (DCGAN, MLP), per-class BN tables (ResNet) or the
  # shared embedding (BigGAN) -- only when conditional.
  g_class = {"dcgan": lambda: g_params["['ConvTranspose_0']['kernel']"].shape[2]
                              == models.latent_dim + K,
             "mlp": lambda: g_params["['Dense_0']['kernel']"].shape[0]
                            == models.latent_dim + spec.num_classes,
             "resnet": lambda: any("['gain']['embedding']" in p for p in g_params),
             "biggan": lambda: "['shared']['embedding']" in g_params}[name]()
  assert g_class == bool(cond)
  # D: one-hot input channels for concat, an embedding for projection, a classifier.
  first = d_params[{"dcgan": "['Conv_0']['kernel']", "mlp": "['Dense_0']['kernel']"}.get(
      name, "['ResNetFeatures_0']['DBlock_0']['Conv_0']['kernel']")]
  channels = spec.shape[-1] if spec.kind == "image" else math.prod(spec.shape)
  assert first.shape[-2 if spec.kind == "image" else 0] == channels + (
      spec.num_classes if cond == "concat" else 0)
  assert any("['embed']" in p for p in d_params) == (cond == "projection")
  assert any("['classifier']" in p for p in d_params) == (cond in ("acgan", "adcgan"))


# Numerically, each 32x32 architecture and each cond at least once (compiles are slow;
# resnet at 64x64 is the 32x32 code with one more block, traced above).
NUMERIC_CASES = [("dcgan", 32, "concat"), ("mlp", 0, "acgan"), ("mlp", 0, ""),
                 ("resnet", 32, "adcgan"), ("biggan", 32, "projection")]


@pytest.mark.parametrize("name,side,cond", NUMERIC_CASES)
def test_one_gradient_step_is_finite_and_labels_change_outputs(name, side, cond):
  models, spec = _models(name, side, cond)
  z, y, x = _inputs(models, spec)
  g_vars, d_vars = _filled(models.generator, z, y), _filled(models.discriminator, x, y)
  y_other = (y + 1) % spec.num_classes

  @functools.partial(jax.jit, compiler_options=FAST_COMPILE)
  def run(g_vars, d_vars):
    fakes = [models.generator.apply(g_vars, z, c, train=False) for c in (y, y_other)]
    logits = [jax.tree.leaves(models.discriminator.apply(d_vars, fakes[0], c,
                                                         train=False))[0]
              for c in (y, y_other)]
    grads = _g_to_d_grads(models, g_vars, d_vars, z, y)
    return fakes, logits, grads

  fakes, logits, (g_grads, d_grads) = run(g_vars, d_vars)
  chex.assert_tree_all_finite((fakes, logits, g_grads, d_grads))
  # The class reaches G for any cond, and D's real/fake logit for concat and projection.
  assert (not np.allclose(*fakes)) == bool(cond)
  assert (not np.allclose(*logits)) == (cond in ("concat", "projection"))
  for grads in (g_grads, d_grads):
    assert sum(float(jnp.sum(jnp.abs(g))) for g in jax.tree.leaves(grads)) > 0
  head = [l for p, l in _leaves(d_grads).items() if "DiscriminatorHead" in p]
  assert bool(head) == (cond in HEAD_CONDS or name in ("resnet", "biggan"))
  assert all(float(jnp.max(jnp.abs(g))) > 0 for g in head)


@pytest.mark.parametrize("name", ["resnet", "biggan"])
def test_auto_convs_are_matmul_on_cpu_where_xla_conv_is_slow_inside_scan(name):
  for impl, expected in (("auto", "matmul" if jax.default_backend() == "cpu" else "xla"),
                         ("xla", "xla")):
    models = build_gan(_config(name, "", conv_impl=impl), IMAGES[32])
    for module in (models.generator, models.discriminator):  # their 3x3 stride-1 convs
      assert jnn.resolve_impl(module.conv_impl, (3, 3), (1, 1)) == expected


@pytest.mark.parametrize("name", ["resnet", "biggan"])
def test_attention_is_inserted_in_g_and_d_at_the_chosen_resolution(name):
  spec = IMAGES[32]
  x, y = jnp.zeros((2, 32, 32, 3)), jnp.zeros((2,), jnp.int32)
  z = jnp.zeros((2, 12))
  for res in (0, 8, 16):
    models = build_gan(_config(name, "projection", width=8, attention_res=res), spec)
    for module, args in ((models.generator, (z, y)), (models.discriminator, (x, y))):
      variables = jax.eval_shape(module.init, jax.random.PRNGKey(0), *args)
      gammas = [p for p in _leaves(variables["params"]) if p.endswith("['gamma']")]
      assert len(gammas) == (res > 0)
      if res:  # the block sees feature maps of the chosen resolution
        _, inter = jax.eval_shape(lambda v: module.apply(
            v, *args, train=False, mutable=["intermediates"],
            capture_intermediates=lambda m, _: isinstance(m, SelfAttention)), variables)
        (attended,) = jax.tree.leaves(inter)
        assert attended.shape[1:3] == (res, res)


def test_biggan_hierarchical_latent_feeds_each_block_its_chunk_and_the_embedding():
  config = _config("biggan", "projection", width=8, latent_dim=16, embed_dim=6,
                   g_norm="spectral")
  g = build_gan(config, IMAGES[32]).generator
  params = jax.eval_shape(g.init, jax.random.PRNGKey(0), jnp.zeros((2, 16)),
                          jnp.zeros((2,), jnp.int32))["params"]
  chunk = 16 // 4  # 3 up-blocks + the 4x4 input: 4 chunks of z
  assert params["Dense_0"]["kernel"].shape == (chunk, 16 * 32)
  assert params["shared"]["embedding"].shape == (K, 6)
  for i in range(3):
    for bn in ("ConditionalBatchNorm_0", "ConditionalBatchNorm_1"):
      assert params[f"GBlock_{i}"][bn]["gain"]["kernel"].shape[0] == 6 + chunk
  # Only the last block's BNs see the last chunk: changing it moves the output but
  # not the output of the block before.
  variables = _filled(g, jnp.zeros((2, 16)), jnp.zeros((2,), jnp.int32))
  z = jax.random.normal(jax.random.PRNGKey(1), (2, 16))
  z2 = z.at[:, -chunk:].add(1.0)
  run = jax.jit(lambda z: g.apply(variables, z, jnp.array([1, 2]), train=False,
                                  capture_intermediates=True, mutable=["intermediates"]),
                compiler_options=FAST_COMPILE)
  (out, inter), (out2, inter2) = run(z), run(z2)
  assert not np.allclose(out, out2)
  np.testing.assert_array_equal(inter["intermediates"]["GBlock_1"]["__call__"][0],
                                inter2["intermediates"]["GBlock_1"]["__call__"][0])


def test_truncated_noise_stays_within_the_threshold():
  key = jax.random.PRNGKey(0)
  z = truncated_noise(key, 4000, 8, threshold=0.5)
  chex.assert_shape(z, (4000, 8))
  assert float(jnp.max(jnp.abs(z))) <= 0.5
  # A truncated normal on [-.5, .5] has std 0.2839; not a constant or a clipped normal.
  np.testing.assert_allclose(float(jnp.std(z)), 0.2839, atol=0.01)
  assert float(jnp.mean(jnp.abs(z) > 0.499)) < 0.01
  assert float(jnp.max(jnp.abs(truncated_noise(key, 4000, 8)))) > 2.0
  with pytest.raises(ValueError, match="threshold"):
    truncated_noise(key, 2, 2, threshold=0.0)


# --- Shared pieces against their formulas. -----------------------------------------


def _reference_attention(x, p, pool):
  """SAGAN eq. (1)-(3) in numpy, from the block's parameters."""
  x = np.asarray(x, np.float64)
  b, h, w, c = x.shape
  conv = lambda t, name: t @ np.asarray(p[name]["kernel"], np.float64)[0, 0]
  g, f, v_in = conv(x, "g"), conv(x, "f"), conv(x, "h")
  if pool:
    f = f.reshape(b, h // 2, 2, w // 2, 2, -1).max(axis=(2, 4))
    v_in = v_in.reshape(b, h // 2, 2, w // 2, 2, -1).max(axis=(2, 4))
  g, f, v_in = g.reshape(b, h * w, -1), f.reshape(b, -1, f.shape[-1]), v_in.reshape(
      b, -1, v_in.shape[-1])
  s = np.einsum("bjc,bic->bji", g, f)
  beta = np.exp(s - s.max(-1, keepdims=True))
  beta /= beta.sum(-1, keepdims=True)
  o = conv(np.einsum("bji,bic->bjc", beta, v_in).reshape(b, h, w, -1), "v")
  return x + float(p["gamma"]) * o


@pytest.mark.parametrize("pool", [False, True])
def test_self_attention_starts_as_identity_and_matches_sagan(pool):
  block = SelfAttention(pool=pool, value_divisor=2, conv_impl="xla")
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 16))
  variables = _jit(block.init)(jax.random.PRNGKey(1), x)
  assert float(variables["params"]["gamma"]) == 0.0
  np.testing.assert_array_equal(_jit(block.apply)(variables, x), x)
  params = {**variables["params"], "gamma": jnp.array(1.5)}
  out = _jit(block.apply)({"params": params}, x)
  assert float(jnp.max(jnp.abs(out - x))) > 1e-3
  np.testing.assert_allclose(out, _reference_attention(x, params, pool), rtol=1e-4,
                             atol=1e-5)


def test_heads_equal_their_formulas():
  h = jax.random.normal(jax.random.PRNGKey(0), (5, 7))
  y = jnp.array([0, 2, 1, 2, 0])
  head = DiscriminatorHead("projection", 3)
  params = _filled(head, h, y)["params"]
  w, bias = params["linear"]["kernel"], params["linear"]["bias"]
  embed = params["embed"]["embedding"]
  expected = (h @ w)[:, 0] + bias[0] + jnp.sum(embed[y] * h, axis=-1)
  np.testing.assert_allclose(_jit(head.apply)({"params": params}, h, y), expected, rtol=1e-5)
  for cond, k in (("acgan", 3), ("adcgan", 6)):
    head = DiscriminatorHead(cond, 3)
    params = _filled(head, h, y)["params"]
    logits, class_logits = _jit(head.apply)({"params": params}, h, y)
    np.testing.assert_allclose(
        logits, (h @ params["linear"]["kernel"])[:, 0] + params["linear"]["bias"][0],
        rtol=1e-5)
    chex.assert_shape(class_logits, (5, k))
    np.testing.assert_allclose(class_logits, h @ params["classifier"]["kernel"]
                               + params["classifier"]["bias"], rtol=1e-5)


def test_conditional_batchnorm_applies_the_labelled_class_gain_and_bias():
  x = jax.random.normal(jax.random.PRNGKey(0), (6, 2, 2, 3)) * 2.0 + 1.0
  y = jnp.array([0, 1, 2, 0, 1, 2])
  bn = ConditionalBatchNorm(num_classes=3)
  variables = _jit(bn.init)(jax.random.PRNGKey(1), x, y)
  np.testing.assert_array_equal(variables["params"]["gain"]["embedding"], np.ones((3, 3)))
  gain = jnp.arange(9.0).reshape(3, 3) + 1.0
  shift = -jnp.arange(9.0).reshape(3, 3)
  params = {"gain": {"embedding": gain}, "bias": {"embedding": shift}}
  out, _ = _jit(bn.apply, mutable=["batch_stats"])({**variables, "params": params}, x, y)
  mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
  normalized = (x - mean) / jnp.sqrt(var + 1e-5)
  np.testing.assert_allclose(out, normalized * gain[y][:, None, None] + shift[y][:, None, None],
                             rtol=1e-4, atol=1e-4)
  # BigGAN's form: gain = 1 + W_g c, bias = W_b c for a conditioning vector c.
  c = jax.random.normal(jax.random.PRNGKey(2), (6, 4))
  bn = ConditionalBatchNorm()
  variables = _filled(bn, x, c)
  out, _ = _jit(bn.apply, mutable=["batch_stats"])(variables, x, c)
  p = variables["params"]
  expected = (normalized * (1 + c @ p["gain"]["kernel"])[:, None, None]
              + (c @ p["bias"]["kernel"])[:, None, None])
  np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_concat_one_hot_adds_class_channels_or_entries():
  x = jnp.zeros((2, 4, 4, 3))
  out = concat_one_hot(x, jnp.array([1, 3]), 5)
  chex.assert_shape(out, (2, 4, 4, 8))
  np.testing.assert_array_equal(out[0, 2, 1, 3:], [0, 1, 0, 0, 0])
  np.testing.assert_array_equal(out[1, 0, 3, 3:], [0, 0, 0, 1, 0])
  points = concat_one_hot(jnp.ones((2, 2)), jnp.array([0, 2]), 3)
  np.testing.assert_array_equal(points, [[1, 1, 1, 0, 0], [1, 1, 0, 0, 1]])


def test_orthogonal_regularization_is_zero_for_orthogonal_and_matches_formula():
  q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(8, 5)))
  assert float(orthogonal_penalty(jnp.asarray(q))) < 1e-10
  rng = np.random.default_rng(1)
  dense, conv = rng.normal(size=(6, 4)), rng.normal(size=(3, 3, 2, 5))
  params = {"Dense_0": {"kernel": dense, "bias": rng.normal(size=4)},
            "Block": {"Conv_0": {"kernel": conv}, "BatchNorm_0": {"scale": rng.normal(size=5)}},
            "shared": {"embedding": rng.normal(size=(10, 4))}}

  def formula(w):
    w = w.reshape(-1, w.shape[-1])
    gram = w.T @ w
    return np.sum((gram * (1 - np.eye(len(gram)))) ** 2)

  np.testing.assert_allclose(orthogonal_regularization(params),
                             formula(dense) + formula(conv), rtol=1e-5)
  only_conv = orthogonal_regularization(params, include=lambda path, _: "Conv" in path)
  np.testing.assert_allclose(only_conv, formula(conv), rtol=1e-5)


# --- One-line errors. ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["dcgan", "mlp", "resnet", "biggan"])
def test_conditioning_on_an_unlabeled_dataset_or_unknown_cond_fails_in_one_line(name):
  spec = IMAGES[32] if name != "mlp" else POINTS
  unlabeled = DataSpec("unlabeled", spec.shape, 0, spec.kind)
  with pytest.raises(ValueError, match=r"model\.cond 'projection'.*'unlabeled'") as err:
    build_gan(_config(name, "projection"), unlabeled)
  assert "\n" not in str(err.value)
  with pytest.raises(ValueError, match=r"unknown model\.cond 'aux'; choose one of") as err:
    build_gan(_config(name, "aux"), spec)
  assert "\n" not in str(err.value)
  build_gan(_config(name, ""), unlabeled)  # unconditional is fine without labels


@pytest.mark.parametrize("name", ["resnet", "biggan"])
@pytest.mark.parametrize("spec,overrides,match", [
    (POINTS, {}, r"needs an image dataset"),
    (DataSpec("x", (28, 28, 1), 10, "image"), {}, r"side 16, 32 or 64.*28x28"),
    (IMAGES[32], {"d_norm": "batch"}, r"model\.d_norm 'batch'.*choose one of: spectral, none"),
    (IMAGES[32], {"g_norm": "layer"}, r"model\.g_norm 'layer'.*choose one of: batch, spectral"),
    (IMAGES[32], {"attention_res": 32}, r"model\.attention_res 32.*choose one of: 0, 8, 16"),
    (IMAGES[32], {"output_activation": "sigmoid"}, r"model\.output_activation 'sigmoid'"),
])
def test_bad_resnet_and_biggan_options_fail_in_one_line(name, spec, overrides, match):
  with pytest.raises(ValueError, match=match) as err:
    build_gan(_config(name, "", **overrides), spec)
  assert "\n" not in str(err.value)
