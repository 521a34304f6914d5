"""Adaptive discriminator augmentation, ADA (Karras et al. 2020, "Training Generative
Adversarial Networks with Limited Data"; after NVlabs/stylegan2-ada-pytorch augment.py).

`augment(key, images, p)` applies each enabled op to each example with probability p:
the 'blit' group (x-flip, 90-degree rotations, integer translation) and the 'geom' group
(isotropic scaling, rotation, anisotropic scaling, fractional translation) compose into
one inverse affine matrix per example, executed as one bilinear resample with reflect
padding (the paper resamples with a 2x-upsampled sym6 wavelet filter; plain bilinear is
cheaper on CPU and blurs a little more); the 'color' group (brightness, contrast, luma
flip, hue, saturation) composes into one 4x4 colour matrix. Unlike the paper, colour-
transformed examples are clipped to [-1, 1], so every op keeps the data range.
`update` is the controller: p moves by sign(E[sign(D(real))] - target) every interval.
"""

from __future__ import annotations

import math

import flax
import jax
import jax.numpy as jnp
import ml_collections
from jax.scipy.ndimage import map_coordinates

from jaxgen.errors import ConfigError

Array = jax.Array

BLIT = ("xflip", "rotate90", "xint")
GEOM = ("scale", "rotate", "aniso", "xfrac")
COLOR = ("brightness", "contrast", "lumaflip", "hue", "saturation")
OPS = BLIT + GEOM + COLOR
GROUPS = {"blit": BLIT, "geom": GEOM, "color": COLOR, "bg": BLIT + GEOM,
          "bgc": BLIT + GEOM + COLOR}
NAMES = tuple(GROUPS) + OPS  # what `train.ada_pipeline` may list

# The paper's ranges (stylegan2-ada-pytorch AugmentPipe defaults).
XINT_MAX = 0.125       # integer translation, fraction of the image size
SCALE_STD = 0.2        # log2 std of isotropic scaling
ROTATE_MAX = 1.0       # arbitrary rotation range, 1 = full circle
ANISO_STD = 0.2        # log2 std of anisotropic scaling
XFRAC_STD = 0.125      # std of fractional translation, fraction of the image size
BRIGHTNESS_STD = 0.2   # std of the additive brightness offset
CONTRAST_STD = 0.5     # log2 std of contrast
HUE_MAX = 1.0          # hue rotation range, 1 = full circle
SATURATION_STD = 1.0   # log2 std of saturation


def parse_pipeline(pipeline: str) -> tuple[str, ...]:
  """'bgc' or 'xflip,rotate90' -> the ops, in the paper's order (one-line error otherwise)."""
  names = [n.strip() for n in pipeline.split(",") if n.strip()]
  ops = set()
  for name in names:
    if name not in NAMES:
      raise ConfigError(f"unknown train.ada_pipeline {name!r}; choose one of: "
                        f"{', '.join(NAMES)}")
    ops.update(GROUPS.get(name, (name,)))
  return tuple(op for op in OPS if op in ops)


# Every random number of one call is drawn at once (two draws compile much faster than
# forty): uniforms in [0, 1) and standard normals, one column per use, each [n].
UNIFORMS = ("xflip", "xflip_pick", "rotate90", "rotate90_pick", "xint", "xint_x", "xint_y",
            "scale", "rotate_pre", "rotate_pre_angle", "aniso", "rotate_post",
            "rotate_post_angle", "xfrac", "brightness", "contrast", "lumaflip",
            "lumaflip_pick", "hue", "hue_angle", "saturation")
NORMALS = ("scale", "aniso", "xfrac_x", "xfrac_y", "brightness", "contrast", "saturation")


def _draws(key: Array, n: int) -> tuple[dict, dict]:
  """The uniforms and normals of n examples, by use."""
  k_u, k_z = jax.random.split(key)
  uniform = jax.random.uniform(k_u, (len(UNIFORMS), n))
  normal = jax.random.normal(k_z, (len(NORMALS), n))
  return dict(zip(UNIFORMS, uniform)), dict(zip(NORMALS, normal))


def _affine(a: Array, b: Array, c: Array, d: Array, tx: Array, ty: Array) -> Array:
  """[n, 3, 3] homogeneous matrices [[a, b, tx], [c, d, ty], [0, 0, 1]]."""
  zero, one = jnp.zeros_like(a), jnp.ones_like(a)
  rows = [jnp.stack([a, b, tx], -1), jnp.stack([c, d, ty], -1),
          jnp.stack([zero, zero, one], -1)]
  return jnp.stack(rows, -2)


def _scale(sx: Array, sy: Array) -> Array:
  zero = jnp.zeros_like(sx)
  return _affine(sx, zero, zero, sy, zero, zero)


def _rotate(cos: Array, sin: Array) -> Array:
  zero = jnp.zeros_like(cos)
  return _affine(cos, -sin, sin, cos, zero, zero)


def _translate(tx: Array, ty: Array) -> Array:
  one, zero = jnp.ones_like(tx), jnp.zeros_like(tx)
  return _affine(one, zero, zero, one, tx, ty)


def _geometry(u: dict, z: dict, n: int, h: int, w: int, p: Array,
              ops: tuple[str, ...]) -> tuple[Array, Array]:
  """Each example's inverse transform (output pixel -> input pixel, centred pixel units)
  as [n, 3, 3], and whether any geometric op was applied to it [n]."""
  g_inv = jnp.broadcast_to(jnp.eye(3), (n, 3, 3))
  used = jnp.zeros((n,), bool)

  def then(matrix):
    return jnp.einsum("nij,njk->nik", g_inv, matrix)

  if "xflip" in ops:
    on = u["xflip"] < p
    flip = on & (u["xflip_pick"] < 0.5)
    g_inv, used = then(_scale(jnp.where(flip, -1.0, 1.0), jnp.ones((n,)))), used | on
  if "rotate90" in ops:
    on = u["rotate90"] < p
    quarter = jnp.where(on, jnp.floor(u["rotate90_pick"] * 4).astype(jnp.int32), 0)
    # Exact cosines and sines of the quarter turns keep the resample exact.
    cos, sin = jnp.array([1.0, 0, -1, 0])[quarter], jnp.array([0.0, 1, 0, -1])[quarter]
    g_inv, used = then(_rotate(cos, sin)), used | on
  if "xint" in ops:
    on = u["xint"] < p
    tx = jnp.where(on, (u["xint_x"] * 2 - 1) * XINT_MAX, 0.0)
    ty = jnp.where(on, (u["xint_y"] * 2 - 1) * XINT_MAX, 0.0)
    g_inv, used = then(_translate(-jnp.round(tx * w), -jnp.round(ty * h))), used | on
  if "scale" in ops:
    on = u["scale"] < p
    s = jnp.where(on, jnp.exp2(z["scale"] * SCALE_STD), 1.0)
    g_inv, used = then(_scale(1 / s, 1 / s)), used | on
  # Rotation before and after the anisotropic scaling, each with p_rot, so that
  # P(pre or post) = p.
  p_rot = 1 - jnp.sqrt(jnp.clip(1 - p, 0.0, 1.0))

  def rotation(when):
    on = u[f"rotate_{when}"] < p_rot
    theta = jnp.where(on, (u[f"rotate_{when}_angle"] * 2 - 1) * math.pi * ROTATE_MAX, 0.0)
    return _rotate(jnp.cos(theta), jnp.sin(theta)), on

  if "rotate" in ops:
    matrix, on = rotation("pre")
    g_inv, used = then(matrix), used | on
  if "aniso" in ops:
    on = u["aniso"] < p
    s = jnp.where(on, jnp.exp2(z["aniso"] * ANISO_STD), 1.0)
    g_inv, used = then(_scale(1 / s, s)), used | on
  if "rotate" in ops:
    matrix, on = rotation("post")
    g_inv, used = then(matrix), used | on
  if "xfrac" in ops:
    on = u["xfrac"] < p
    tx = jnp.where(on, z["xfrac_x"] * XFRAC_STD, 0.0)
    ty = jnp.where(on, z["xfrac_y"] * XFRAC_STD, 0.0)
    g_inv, used = then(_translate(-tx * w, -ty * h)), used | on
  return g_inv, used


def warp(images: Array, g_inv: Array) -> Array:
  """Resamples NHWC `images` bilinearly at g_inv @ (output pixel), reflecting at the
  borders (d c b | a b c d | c b a); pixel coordinates are centred on the image."""
  _, h, w, _ = images.shape
  cy, cx = (h - 1) / 2, (w - 1) / 2
  rows, cols = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32),
                            jnp.arange(w, dtype=jnp.float32), indexing="ij")
  out = jnp.stack([cols - cx, rows - cy, jnp.ones_like(rows)])  # [3, h, w]
  src = jnp.einsum("nij,jhw->nihw", g_inv.astype(jnp.float32), out)

  def resample(channel, r, c):
    return map_coordinates(channel, [r, c], order=1, mode="mirror")

  per_channel = jax.vmap(resample, in_axes=(2, None, None), out_axes=2)
  return jax.vmap(per_channel)(images, src[:, 1] + cy, src[:, 0] + cx).astype(images.dtype)


def _translate3(b: Array) -> Array:
  """[n, 4, 4]: adds b to each of r, g, b."""
  return jnp.broadcast_to(jnp.eye(4), b.shape + (4, 4)).at[:, :3, 3].set(b[:, None])


def _scale3(c: Array) -> Array:
  """[n, 4, 4]: multiplies r, g, b by c."""
  return jnp.eye(4) * jnp.stack([c, c, c, jnp.ones_like(c)], -1)[:, None, :]


def _color_matrix(u: dict, z: dict, n: int, channels: int, p: Array,
                  ops: tuple[str, ...]) -> tuple[Array, Array]:
  """Each example's 4x4 colour matrix (C @ [r, g, b, 1]) and whether a colour op applied."""
  eye = jnp.eye(4)
  c_mat = jnp.broadcast_to(eye, (n, 4, 4))
  used = jnp.zeros((n,), bool)
  v = jnp.array([1.0, 1, 1, 0]) / math.sqrt(3)  # the luma axis
  vv = jnp.outer(v, v)

  def before(matrix):
    return jnp.einsum("nij,njk->nik", matrix, c_mat)

  if "brightness" in ops:
    on = u["brightness"] < p
    b = jnp.where(on, z["brightness"] * BRIGHTNESS_STD, 0.0)
    c_mat, used = before(_translate3(b)), used | on
  if "contrast" in ops:
    on = u["contrast"] < p
    c = jnp.where(on, jnp.exp2(z["contrast"] * CONTRAST_STD), 1.0)
    c_mat, used = before(_scale3(c)), used | on
  if "lumaflip" in ops:
    on = u["lumaflip"] < p
    flip = on & (u["lumaflip_pick"] < 0.5)
    # A Householder reflection of the luma axis: inverts brightness, keeps hue.
    c_mat, used = before(eye - 2 * vv * flip[:, None, None]), used | on
  if "hue" in ops and channels > 1:
    on = u["hue"] < p
    theta = jnp.where(on, (u["hue_angle"] * 2 - 1) * math.pi * HUE_MAX, 0.0)[:, None, None]
    cross = jnp.array([[0, -v[2], v[1], 0], [v[2], 0, -v[0], 0], [-v[1], v[0], 0, 0],
                       [0, 0, 0, 0]])
    # Rodrigues' rotation about the luma axis.
    rot = (jnp.cos(theta) * eye.at[3, 3].set(0.0) + jnp.sin(theta) * cross
           + (1 - jnp.cos(theta)) * vv + jnp.zeros((4, 4)).at[3, 3].set(1.0))
    c_mat, used = before(rot), used | on
  if "saturation" in ops and channels > 1:
    on = u["saturation"] < p
    s = jnp.where(on, jnp.exp2(z["saturation"] * SATURATION_STD), 1.0)
    c_mat, used = before(vv + (eye - vv) * s[:, None, None]), used | on
  return c_mat, used


def recolor(images: Array, c_mat: Array) -> Array:
  """Applies [n, 4, 4] colour matrices to NHWC RGB images; a grey image (1 channel) gets
  the mean of the matrix's RGB rows, as in the paper."""
  channels = images.shape[-1]
  if channels == 3:
    return (jnp.einsum("nij,nhwj->nhwi", c_mat[:, :3, :3], images)
            + c_mat[:, None, None, :3, 3])
  if channels == 1:
    grey = jnp.mean(c_mat[:, :3, :], axis=1)  # [n, 4]
    return images * jnp.sum(grey[:, :3], -1)[:, None, None, None] + grey[:, None, None, 3:]
  raise ConfigError(f"train.ada_pipeline colour ops need 1 or 3 channels, got {channels}; "
                    "use 'bg'")


def augment(key: Array, images: Array, p: Array | float,
            pipeline: str | tuple[str, ...] = "bgc") -> Array:
  """ADA's augmentation of NHWC images in [-1, 1], each op applied per example with
  probability p; the identity at p = 0 and differentiable in `images`."""
  ops = parse_pipeline(pipeline) if isinstance(pipeline, str) else pipeline
  if images.ndim != 4:
    raise ConfigError(f"train.ada_target > 0 needs image batches [B, H, W, C]; "
                      f"got shape {images.shape}")
  n, h, w, channels = images.shape
  u, z = _draws(key, n)
  p = jnp.asarray(p, jnp.float32)
  if any(op in ops for op in BLIT + GEOM):
    g_inv, used = _geometry(u, z, n, h, w, p, ops)
    images = jnp.where(used[:, None, None, None], warp(images, g_inv), images)
  if any(op in ops for op in COLOR):
    c_mat, used = _color_matrix(u, z, n, channels, p, ops)
    recolored = jnp.clip(recolor(images, c_mat.astype(images.dtype)), -1.0, 1.0)
    images = jnp.where(used[:, None, None, None], recolored, images)
  return images


@flax.struct.dataclass
class AdaState:
  """The controller's state, part of the trainer's state so checkpoints carry it."""
  p: Array          # current augmentation probability
  sign_sum: Array   # sum of sign(D(real)) over the current interval
  count: Array      # real logits summed in the current interval
  steps: Array      # updates done in the current interval
  r_t: Array        # E[sign(D(real))] of the last finished interval (logged)


def init_state(p_init: float = 0.0) -> AdaState:
  # Separate buffers: the train loop donates the state, and a buffer cannot be donated twice.
  return AdaState(p=jnp.full((), p_init, jnp.float32), sign_sum=jnp.zeros(()),
                  count=jnp.zeros(()), steps=jnp.zeros((), jnp.int32), r_t=jnp.zeros(()))


def update(state: AdaState, d_real_logits: Array,
           config: ml_collections.ConfigDict) -> AdaState:
  """Accumulates sign(D(real)); every `train.ada_interval` updates moves p by
  sign(r_t - ada_target) * (images in the interval) / (ada_kimg * 1000), within [0, 1]."""
  signs = jnp.sign(jax.lax.stop_gradient(d_real_logits).astype(jnp.float32))
  sign_sum = state.sign_sum + jnp.sum(signs)
  count = state.count + signs.size
  steps = state.steps + 1
  due = steps >= config.train.ada_interval
  r_t = sign_sum / count
  adjust = jnp.sign(r_t - config.train.ada_target) * count / (config.train.ada_kimg * 1000)
  p = jnp.where(due, jnp.clip(state.p + adjust, 0.0, 1.0), state.p)
  zero = jnp.zeros_like(sign_sum)
  return AdaState(p=p, sign_sum=jnp.where(due, zero, sign_sum),
                  count=jnp.where(due, zero, count),
                  steps=jnp.where(due, jnp.zeros_like(steps), steps),
                  r_t=jnp.where(due, r_t, state.r_t))
