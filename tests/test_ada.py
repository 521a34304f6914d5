"""Adaptive discriminator augmentation: the ops, the p controller and its place in the GAN."""

import functools
import hashlib

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
import scipy.ndimage

from jaxgen.augment import ada
from jaxgen.checkpoint import Checkpointer
from jaxgen.data.base import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.trainers import build_trainer
from tests.conftest import tiny_dcgan

KEY = jax.random.PRNGKey(0)
GEOMETRIC = ada.BLIT + ada.GEOM


@functools.partial(jax.jit, static_argnums=2)
def _run(x, weights, op):
  """The op at p = 0, 0.3 and 1, and the gradient of <augment(x, p=1), weights> in x."""
  def weighted(x):
    out = ada.augment(KEY, x, 1.0, (op,))
    return jnp.sum(out * weights), out
  grad, at_one = jax.grad(weighted, has_aux=True)(x)
  at_zero = ada.augment(KEY, x, 0.0, (op,))
  at_03 = ada.augment(jax.random.PRNGKey(3), x, 0.3, (op,))
  return at_zero, at_03, at_one, grad


# 2000 RGB images of 8x8: one compilation per op serves every test of the op.
X = jax.random.uniform(jax.random.PRNGKey(1), (2000, 8, 8, 3), minval=-0.5, maxval=0.5)
WEIGHTS = jax.random.normal(jax.random.PRNGKey(2), X.shape)


@functools.lru_cache(maxsize=None)
def _results(op):
  return tuple(np.asarray(a) for a in _run(X, WEIGHTS, op))


def _changed(out, x):
  return np.any(out != x, axis=(1, 2, 3))


# Expected fraction of changed examples: x-flip and luma flip draw the identity half the
# time, rotate90 a quarter; xint on 8 px rounds both shifts (uniform in +-1 px) to 0
# with probability 1/4.
CHANGE_FRACTION = dict(xflip=0.5, rotate90=0.75, xint=0.75, lumaflip=0.5)


@pytest.mark.parametrize("op", ada.OPS)
def test_op_is_identity_at_p0_keeps_range_changes_images_with_probability_p(op):
  x = np.asarray(X)
  at_zero, at_03, at_one, grad = _results(op)
  np.testing.assert_array_equal(at_zero, x)
  assert at_one.shape == x.shape
  if op in GEOMETRIC:  # bilinear resampling mixes input pixels: within the input's range
    assert at_one.min() >= x.min() and at_one.max() <= x.max()
  else:
    assert at_one.min() >= -1.0 and at_one.max() <= 1.0
  expected = CHANGE_FRACTION.get(op, 1.0)
  # 2000 draws: the std of a fraction is <= 0.011; the tolerances are > 4 std.
  assert abs(_changed(at_one, x).mean() - expected) < 0.05
  assert abs(_changed(at_03, x).mean() - 0.3 * expected) < 0.045
  assert np.isfinite(grad).all() and np.abs(grad).sum() > 100.0


def test_xflip_and_rotate90_at_p1_are_exact_flips_and_quarter_turns():
  x = np.asarray(X[:64])
  flipped = _results("xflip")[2][:64]
  is_flip = [np.array_equal(o, np.flip(i, axis=1)) for o, i in zip(flipped, x)]
  is_same = [np.array_equal(o, i) for o, i in zip(flipped, x)]
  # The paper draws a group element per example: identity or flip, half each.
  assert all(f or s for f, s in zip(is_flip, is_same)) and 16 <= sum(is_flip) <= 48
  turned = _results("rotate90")[2][:64]
  turns = [[np.array_equal(o, np.rot90(i, k, axes=(0, 1))) for k in range(4)]
           for o, i in zip(turned, x)]
  assert all(sum(t) == 1 for t in turns)
  assert {t.index(True) for t in turns} == {0, 1, 2, 3}


def test_integer_translation_is_a_reflect_padded_shift_of_at_most_an_eighth():
  x = np.asarray(X[:64])
  out = _results("xint")[2][:64]
  padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
  for o, image in zip(out, padded):
    shifts = [(dy, dx) for dy in range(-1, 2) for dx in range(-1, 2)
              if np.array_equal(o, image[1 - dy:9 - dy, 1 - dx:9 - dx])]
    assert len(shifts) == 1


def test_warp_matches_scipy_affine_transform_with_mirror_padding():
  x = np.asarray(jax.random.uniform(KEY, (3, 12, 12, 1), minval=-1, maxval=1))
  angle, scale, shift = 0.4, 1.3, (1.7, -0.6)
  c, s = np.cos(angle), np.sin(angle)
  g_inv = np.array([[c * scale, -s * scale, shift[0]], [s * scale, c * scale, shift[1]],
                    [0, 0, 1]], np.float32)
  out = np.asarray(ada.warp(jnp.asarray(x), jnp.asarray(np.stack([g_inv] * 3))))
  centre = np.array([5.5, 5.5])
  # scipy maps output (row, col) to input (row, col): swap x/y of the centred matrix.
  matrix = g_inv[:2, :2][::-1, ::-1]
  offset = centre + g_inv[:2, 2][::-1] - matrix @ centre
  for i in range(3):
    expected = scipy.ndimage.affine_transform(x[i, ..., 0], matrix, offset, order=1,
                                              mode="mirror")
    np.testing.assert_allclose(out[i, ..., 0], expected, atol=1e-5)


def test_colour_ops_follow_their_definitions():
  x = np.asarray(X[:200])
  unclipped = lambda out: np.abs(out).max(axis=(1, 2, 3)) < 1.0
  bright = _results("brightness")[2][:200]
  keep = unclipped(bright)
  offsets = (bright - x).mean(axis=(1, 2, 3))
  np.testing.assert_allclose((bright - x)[keep], np.broadcast_to(
      offsets[:, None, None, None], x.shape)[keep], atol=1e-6)  # one offset per image
  assert keep.mean() > 0.9 and 0.15 < offsets.std(ddof=1) < 0.25  # std 0.2
  contrast = _results("contrast")[2][:200]
  keep = unclipped(contrast)
  ratio = contrast / x
  np.testing.assert_allclose(ratio[keep], np.broadcast_to(ratio[:, :1, :1, :1],
                                                          x.shape)[keep], rtol=1e-4)
  # Luma flip: the Householder reflection x - 2 v v^T x about v = (1, 1, 1) / sqrt(3).
  flipped = _results("lumaflip")[2][:200]
  reflected = x - 2 / 3 * x.sum(-1, keepdims=True)
  is_flip = [np.allclose(o, r, atol=1e-6) for o, r in zip(flipped, reflected)]
  is_same = [np.array_equal(o, i) for o, i in zip(flipped, x)]
  assert all(f or s for f, s in zip(is_flip, is_same)) and 60 <= sum(is_flip) <= 140
  chroma = lambda v: np.linalg.norm(v - v.mean(-1, keepdims=True), axis=-1)
  for op in ("hue", "saturation"):  # both act orthogonally to the luma axis
    out = _results(op)[2][:200]
    inside = np.abs(out).max(-1) < 1.0  # pixels not clipped to [-1, 1]
    assert inside.mean() > 0.9
    np.testing.assert_allclose(out.mean(-1)[inside], x.mean(-1)[inside], atol=1e-5)
    if op == "hue":  # a rotation about the luma axis keeps the chroma's length
      np.testing.assert_allclose(chroma(out)[inside], chroma(x)[inside], atol=1e-5)


def test_grey_images_get_the_mean_of_the_colour_rows():
  grey = jax.random.uniform(KEY, (64, 8, 8, 1), minval=-0.5, maxval=0.5)
  out = np.asarray(jax.jit(ada.augment, static_argnums=3)(KEY, grey, 1.0,
                                                          "lumaflip,hue,saturation"))
  negated = [np.allclose(o, -i, atol=1e-6) for o, i in zip(out, np.asarray(grey))]
  kept = [np.array_equal(o, i) for o, i in zip(out, np.asarray(grey))]
  # Luma flip of a grey image negates it; hue and saturation leave grey images alone.
  assert all(n or k for n, k in zip(negated, kept)) and 16 <= sum(negated) <= 48


def _controller_config(target=0.6, interval=4, kimg=500):
  return ml_collections.ConfigDict(dict(train=dict(ada_target=target, ada_interval=interval,
                                                   ada_kimg=kimg)))


def test_controller_raises_p_when_d_overfits_and_lowers_it_otherwise_by_the_paper_step():
  config = _controller_config()
  step = 64 * 4 / 500_000  # batch * interval / (ada_kimg * 1000)
  state = ada.init_state(0.1)
  confident = jnp.full((64,), 2.0)  # r_t = 1 > 0.6: D overfits
  for i in range(4):
    state = ada.update(state, confident, config)
    expected = 0.1 + step if i == 3 else 0.1  # p moves only at the end of the interval
    np.testing.assert_allclose(float(state.p), expected, rtol=1e-6)
  assert float(state.r_t) == 1.0 and int(state.steps) == 0
  mixed = jnp.where(jnp.arange(64) < 32, 1.0, -1.0)  # r_t = 0 < 0.6
  for _ in range(8):
    state = ada.update(state, mixed, config)
  np.testing.assert_allclose(float(state.p), 0.1 - step, rtol=1e-5)
  assert float(state.r_t) == 0.0
  at_target = jnp.where(jnp.arange(10) < 8, 1.0, -1.0)  # r_t = 0.6 exactly: p stays
  state = ada.init_state(0.5)
  for _ in range(4):
    state = ada.update(state, at_target, config)
  assert float(state.p) == 0.5
  low, high = ada.init_state(0.0), ada.init_state(1.0)
  for _ in range(4):
    low = ada.update(low, -confident, config)
    high = ada.update(high, confident, config)
  assert float(low.p) == 0.0 and float(high.p) == 1.0  # clipped to [0, 1]


def _fingerprint(state) -> str:
  digest = hashlib.sha256()
  for leaf in jax.tree.leaves((state.g, state.d, state.step)):
    digest.update(np.asarray(leaf).tobytes())
  return digest.hexdigest()[:16]


def _batch(i):
  x = jax.random.uniform(jax.random.PRNGKey(5 + i), (1, 16, 8, 8, 1), minval=-1, maxval=1)
  return {"x": x, "y": jnp.zeros((1, 16), jnp.int32)}


@functools.lru_cache(maxsize=None)
def _trainer(**train_fields):
  """A tiny DCGAN trainer on 8x8 digits, its initial state and its jitted train step."""
  trainer = build_trainer(tiny_dcgan(**train_fields), DataSpec("digits", (8, 8, 1), 10,
                                                                "image"))
  if not train_fields:
    return trainer, jax.jit(trainer.init)(KEY), jax.jit(trainer.train_step)
  # With ADA, init adds the controller state to the same networks (checked by shapes).
  expected = jax.eval_shape(trainer.init, KEY)
  assert expected.ada.p.shape == () and expected.ada.steps.dtype == jnp.int32
  init = _trainer()[1].replace(ada=ada.init_state(train_fields["ada_p_init"]))
  shapes = lambda tree: [(leaf.shape, leaf.dtype) for leaf in jax.tree.leaves(tree)]
  assert shapes(init) == shapes(expected)
  return trainer, init, jax.jit(trainer.train_step)


def _steps(state, step, first, last):
  for i in range(first, last):
    state, metrics = step(state, _batch(0 if last <= 3 else i))
  return state, metrics


# p moves by 16 images * 4 steps / 1000 = 0.064 per interval.
ADA = dict(ada_target=0.6, ada_kimg=1, ada_p_init=0.0)


def test_ada_off_is_bit_identical_to_the_gan_before_ada():
  _, init, step = _trainer()
  off, _ = _steps(init, step, 0, 3)
  # The fingerprint of the state after 3 steps (jitted init), recorded with gan.py before
  # the ADA edits (jax 0.10.2, CPU); a change of the DCGAN or of jax also changes it.
  assert _fingerprint(off) == "beb75055e50cbe35"
  # ADA on at p = 0 (p first moves after ada_interval = 4 steps) augments nothing; XLA
  # fuses the other program differently, so equal up to float rounding (1e-10 measured).
  _, init, step = _trainer(**ADA)
  state, metrics = _steps(init, step, 0, 3)
  for a, b in zip(jax.tree.leaves((off.g, off.d)), jax.tree.leaves((state.g, state.d)),
                  strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
  assert float(metrics["ada_p"]) == 0.0 and int(state.ada.steps) == 3


def test_gan_with_ada_carries_p_and_the_accumulators_through_a_checkpoint(tmp_path):
  _, init, step = _trainer(**ADA)
  state = init.replace(ada=ada.init_state(0.5))
  state, _ = _steps(state, step, 0, 6)  # stopped in the middle of the second interval
  checkpointer = Checkpointer(str(tmp_path), async_save=False)
  checkpointer.save(6, state)
  checkpointer.wait()
  restored, at = Checkpointer(str(tmp_path)).restore(jax.tree.map(jnp.zeros_like, state))
  assert at == 6 and int(restored.ada.steps) == 2
  assert float(restored.ada.p) in (pytest.approx(0.436), pytest.approx(0.564))
  straight, metrics = _steps(state, step, 6, 8)
  resumed, _ = _steps(restored, step, 6, 8)
  for a, b in zip(jax.tree.leaves(straight), jax.tree.leaves(resumed), strict=True):
    np.testing.assert_array_equal(a, b)
  assert float(metrics["ada_p"]) == float(straight.ada.p) != float(restored.ada.p)


def test_unknown_pipeline_op_is_a_one_line_config_error():
  with pytest.raises(ConfigError, match="unknown train.ada_pipeline 'cutout'; choose one"):
    ada.parse_pipeline("xflip,cutout")
  with pytest.raises(ConfigError, match="train.ada_target > 0 needs image batches"):
    ada.augment(KEY, jnp.zeros((4, 2)), 0.5)
