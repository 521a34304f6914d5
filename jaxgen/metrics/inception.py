"""The FID Inception-v3 feature network (pytorch-fid's `fid_inception_v3`) in Flax.

A layer-for-layer port of `pytorch_fid/inception.py` (mseitzer/pytorch-fid): torchvision's
`Inception3` (torchvision/models/inception.py) with 1008 classes, no aux head, and the
`FIDInceptionA/C/E_1/E_2` blocks that reproduce the TF graph `inception-2015-12-05`.
Module names equal the PyTorch state-dict names, so `Mixed_5b.branch1x1.conv.weight`
becomes `params/Mixed_5b/branch1x1/conv/kernel` (see `convert_inception.py`).

Images are NHWC float in [-1, 1] (jaxgen's convention). pytorch-fid takes NCHW in [0, 1]
and computes `2 * x - 1` after resizing; bilinear resizing commutes with that affine map,
so feeding `2 * x - 1` here gives the same features. For uint8 images use `x / 127.5 - 1`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

INPUT_SIZE = 299
NUM_CLASSES = 1008  # The TF graph's softmax has 1008 outputs (1000 ImageNet + unused).
FEATURE_DIM = 2048
OUTPUT_KEYS = ("pool3", "logits", "logits_unbiased")

Variables = dict[str, Any]


def resize_bilinear(images: jax.Array, size: int = INPUT_SIZE) -> jax.Array:
  """Resizes NHWC images to size x size like `F.interpolate(mode='bilinear', align_corners=False)`.

  Half-pixel centres, no antialiasing (torch's default) and edge clamping, both up and down.
  """
  n, h, w, c = images.shape
  if (h, w) == (size, size):
    return images
  return jax.image.resize(images, (n, size, size, c), method="bilinear", antialias=False)


class BasicConv2d(nn.Module):
  """Conv without bias, eval-mode BatchNorm (eps=0.001) and ReLU, as torchvision's BasicConv2d."""
  features: int
  kernel_size: tuple[int, int]
  strides: tuple[int, int] = (1, 1)
  padding: tuple[int, int] = (0, 0)

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    ph, pw = self.padding
    x = nn.Conv(self.features, self.kernel_size, self.strides, padding=((ph, ph), (pw, pw)),
                use_bias=False, name="conv")(x)
    x = nn.BatchNorm(use_running_average=True, epsilon=1e-3, name="bn")(x)
    return nn.relu(x)


def _avg_pool_3x3(x: jax.Array) -> jax.Array:
  # FID patch: TF's average pool excludes the zero padding (count_include_pad=False).
  return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=False)


def _max_pool_3x3_s2(x: jax.Array) -> jax.Array:
  return nn.max_pool(x, (3, 3), (2, 2), "VALID")


class InceptionA(nn.Module):
  """pytorch-fid's FIDInceptionA (Mixed_5b/c/d)."""
  pool_features: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    branch1x1 = BasicConv2d(64, (1, 1), name="branch1x1")(x)
    branch5x5 = BasicConv2d(48, (1, 1), name="branch5x5_1")(x)
    branch5x5 = BasicConv2d(64, (5, 5), padding=(2, 2), name="branch5x5_2")(branch5x5)
    branch3x3dbl = BasicConv2d(64, (1, 1), name="branch3x3dbl_1")(x)
    branch3x3dbl = BasicConv2d(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(branch3x3dbl)
    branch3x3dbl = BasicConv2d(96, (3, 3), padding=(1, 1), name="branch3x3dbl_3")(branch3x3dbl)
    branch_pool = BasicConv2d(self.pool_features, (1, 1), name="branch_pool")(_avg_pool_3x3(x))
    return jnp.concatenate([branch1x1, branch5x5, branch3x3dbl, branch_pool], axis=-1)


class InceptionB(nn.Module):
  """torchvision's InceptionB (Mixed_6a): grid reduction 35 -> 17."""

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    branch3x3 = BasicConv2d(384, (3, 3), strides=(2, 2), name="branch3x3")(x)
    branch3x3dbl = BasicConv2d(64, (1, 1), name="branch3x3dbl_1")(x)
    branch3x3dbl = BasicConv2d(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(branch3x3dbl)
    branch3x3dbl = BasicConv2d(96, (3, 3), strides=(2, 2), name="branch3x3dbl_3")(branch3x3dbl)
    return jnp.concatenate([branch3x3, branch3x3dbl, _max_pool_3x3_s2(x)], axis=-1)


class InceptionC(nn.Module):
  """pytorch-fid's FIDInceptionC (Mixed_6b/c/d/e): factorised 7x7 convolutions."""
  channels_7x7: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    c7 = self.channels_7x7
    branch1x1 = BasicConv2d(192, (1, 1), name="branch1x1")(x)
    branch7x7 = BasicConv2d(c7, (1, 1), name="branch7x7_1")(x)
    branch7x7 = BasicConv2d(c7, (1, 7), padding=(0, 3), name="branch7x7_2")(branch7x7)
    branch7x7 = BasicConv2d(192, (7, 1), padding=(3, 0), name="branch7x7_3")(branch7x7)
    dbl = BasicConv2d(c7, (1, 1), name="branch7x7dbl_1")(x)
    dbl = BasicConv2d(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_2")(dbl)
    dbl = BasicConv2d(c7, (1, 7), padding=(0, 3), name="branch7x7dbl_3")(dbl)
    dbl = BasicConv2d(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_4")(dbl)
    dbl = BasicConv2d(192, (1, 7), padding=(0, 3), name="branch7x7dbl_5")(dbl)
    branch_pool = BasicConv2d(192, (1, 1), name="branch_pool")(_avg_pool_3x3(x))
    return jnp.concatenate([branch1x1, branch7x7, dbl, branch_pool], axis=-1)


class InceptionD(nn.Module):
  """torchvision's InceptionD (Mixed_7a): grid reduction 17 -> 8."""

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    branch3x3 = BasicConv2d(192, (1, 1), name="branch3x3_1")(x)
    branch3x3 = BasicConv2d(320, (3, 3), strides=(2, 2), name="branch3x3_2")(branch3x3)
    branch7x7x3 = BasicConv2d(192, (1, 1), name="branch7x7x3_1")(x)
    branch7x7x3 = BasicConv2d(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(branch7x7x3)
    branch7x7x3 = BasicConv2d(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(branch7x7x3)
    branch7x7x3 = BasicConv2d(192, (3, 3), strides=(2, 2), name="branch7x7x3_4")(branch7x7x3)
    return jnp.concatenate([branch3x3, branch7x7x3, _max_pool_3x3_s2(x)], axis=-1)


class InceptionE(nn.Module):
  """pytorch-fid's FIDInceptionE_1 (pool='avg', Mixed_7b) and FIDInceptionE_2 ('max', Mixed_7c)."""
  pool: str

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    branch1x1 = BasicConv2d(320, (1, 1), name="branch1x1")(x)
    branch3x3 = BasicConv2d(384, (1, 1), name="branch3x3_1")(x)
    branch3x3 = jnp.concatenate([
        BasicConv2d(384, (1, 3), padding=(0, 1), name="branch3x3_2a")(branch3x3),
        BasicConv2d(384, (3, 1), padding=(1, 0), name="branch3x3_2b")(branch3x3),
    ], axis=-1)
    dbl = BasicConv2d(448, (1, 1), name="branch3x3dbl_1")(x)
    dbl = BasicConv2d(384, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(dbl)
    dbl = jnp.concatenate([
        BasicConv2d(384, (1, 3), padding=(0, 1), name="branch3x3dbl_3a")(dbl),
        BasicConv2d(384, (3, 1), padding=(1, 0), name="branch3x3dbl_3b")(dbl),
    ], axis=-1)
    if self.pool == "avg":
      pooled = _avg_pool_3x3(x)
    elif self.pool == "max":
      # FID patch (FIDInceptionE_2): the TF graph max-pools here, padding with -inf.
      pooled = nn.max_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)))
    else:
      raise ValueError(f"pool must be 'avg' or 'max', got {self.pool!r}")
    branch_pool = BasicConv2d(192, (1, 1), name="branch_pool")(pooled)
    return jnp.concatenate([branch1x1, branch3x3, dbl, branch_pool], axis=-1)


class FIDInceptionV3(nn.Module):
  """pytorch-fid's `InceptionV3` (FID weights) returning pool3 features and the 1008-way logits.

  Input: NHWC float images in [-1, 1], any size (resized to 299x299 unless
  `resize_input=False`, in which case they must be at least 75x75). Output dict:
  'pool3' [N, 2048] (the FID features), 'logits' [N, 1008] (the TF graph's
  `softmax/logits`, with bias) and 'logits_unbiased' (pool3 @ W without the bias, as
  openai/improved-gan's Inception Score and torch-fidelity use).
  """
  num_classes: int = NUM_CLASSES

  @nn.compact
  def __call__(self, images: jax.Array, resize_input: bool = True) -> dict[str, jax.Array]:
    x = images.astype(jnp.float32)
    if resize_input:
      x = resize_bilinear(x, INPUT_SIZE)
    x = BasicConv2d(32, (3, 3), strides=(2, 2), name="Conv2d_1a_3x3")(x)
    x = BasicConv2d(32, (3, 3), name="Conv2d_2a_3x3")(x)
    x = BasicConv2d(64, (3, 3), padding=(1, 1), name="Conv2d_2b_3x3")(x)
    x = _max_pool_3x3_s2(x)
    x = BasicConv2d(80, (1, 1), name="Conv2d_3b_1x1")(x)
    x = BasicConv2d(192, (3, 3), name="Conv2d_4a_3x3")(x)
    x = _max_pool_3x3_s2(x)
    x = InceptionA(32, name="Mixed_5b")(x)
    x = InceptionA(64, name="Mixed_5c")(x)
    x = InceptionA(64, name="Mixed_5d")(x)
    x = InceptionB(name="Mixed_6a")(x)
    x = InceptionC(128, name="Mixed_6b")(x)
    x = InceptionC(160, name="Mixed_6c")(x)
    x = InceptionC(160, name="Mixed_6d")(x)
    x = InceptionC(192, name="Mixed_6e")(x)
    x = InceptionD(name="Mixed_7a")(x)
    x = InceptionE("avg", name="Mixed_7b")(x)
    x = InceptionE("max", name="Mixed_7c")(x)
    pool3 = jnp.mean(x, axis=(1, 2))  # AdaptiveAvgPool2d((1, 1)); dropout is off in eval.
    fc = nn.Dense(self.num_classes, name="fc")
    logits = fc(pool3)
    logits_unbiased = pool3 @ fc.variables["params"]["kernel"]
    return {"pool3": pool3, "logits": logits, "logits_unbiased": logits_unbiased}


def variable_shapes() -> dict[str, tuple[int, ...]]:
  """Flat '/'-joined variable paths (e.g. 'params/fc/kernel') -> shapes of the FID Inception."""
  model = FIDInceptionV3()
  abstract = jax.eval_shape(
      functools.partial(model.init, resize_input=False),
      jax.random.PRNGKey(0), jax.ShapeDtypeStruct((1, INPUT_SIZE, INPUT_SIZE, 3), jnp.float32))
  flat = traverse_util.flatten_dict(abstract, sep="/")
  return {k: tuple(v.shape) for k, v in flat.items()}


def check_variable_shapes(flat: dict[str, Any]) -> None:
  """Raises ValueError unless `flat` has exactly the network's variable paths and shapes."""
  expected = variable_shapes()
  missing = sorted(set(expected) - set(flat))
  unexpected = sorted(set(flat) - set(expected))
  wrong = sorted(k for k in set(expected) & set(flat) if tuple(np.shape(flat[k])) != expected[k])
  if missing or unexpected or wrong:
    details = [f"missing: {missing[:5]}" if missing else "",
               f"unexpected: {unexpected[:5]}" if unexpected else "",
               "wrong shape: " + ", ".join(
                   f"{k} {tuple(np.shape(flat[k]))} != {expected[k]}" for k in wrong[:5])
               if wrong else ""]
    raise ValueError("FID Inception variables do not match the network ("
                     + "; ".join(d for d in details if d) + ")")


def load_inception_params(path: str) -> Variables:
  """Loads the `.npz` written by `convert_inception` into Flax variables (no pickle is run)."""
  with np.load(path, allow_pickle=False) as data:
    flat = {k: np.asarray(data[k], dtype=np.float32) for k in data.files}
  check_variable_shapes(flat)
  return jax.tree.map(jnp.asarray, traverse_util.unflatten_dict(flat, sep="/"))


@functools.partial(jax.jit, static_argnames=("resize_input", "outputs"))
def _apply(variables: Variables, images: jax.Array, resize_input: bool,
           outputs: tuple[str, ...]) -> tuple[dict[str, jax.Array], jax.Array, jax.Array]:
  out = FIDInceptionV3().apply(variables, images, resize_input=resize_input)
  return {k: out[k] for k in outputs}, jnp.min(images), jnp.max(images)


def inception_outputs(variables: Variables, images: Any, *, batch_size: int = 50,
                      outputs: Sequence[str] = ("pool3", "logits_unbiased"),
                      resize_input: bool = True) -> dict[str, np.ndarray]:
  """Runs the network over [N, H, W, 3] images in [-1, 1], `batch_size` at a time.

  Returns float32 numpy arrays keyed by `outputs` (a subset of OUTPUT_KEYS). The last
  batch is padded so one compilation serves every batch; batch k+1 is dispatched
  before batch k is copied to the host. Raises ValueError for values outside [-1, 1].
  """
  outputs = tuple(outputs)
  if not outputs or any(k not in OUTPUT_KEYS for k in outputs):
    raise ValueError(f"outputs must be a non-empty subset of {OUTPUT_KEYS}, got {outputs}")
  if np.ndim(images) != 4 or np.shape(images)[-1] != 3:
    raise ValueError(f"images must be [N, H, W, 3], got shape {np.shape(images)}")
  if batch_size < 1:
    raise ValueError(f"batch_size must be positive, got {batch_size}")
  n = images.shape[0]
  batch_size = max(1, min(batch_size, n))  # Don't pad a small input up to a big batch.
  results = {k: [] for k in outputs}
  pending = None

  def collect(done):
    out, bmin, bmax, count = done
    lo, hi = float(bmin), float(bmax)
    if lo < -1.0 - 1e-3 or hi > 1.0 + 1e-3:
      raise ValueError(f"images must be in [-1, 1] (got values in [{lo:.3g}, {hi:.3g}]); "
                       "map uint8 images with x / 127.5 - 1")
    for k in outputs:
      results[k].append(np.asarray(out[k])[:count])

  for start in range(0, n, batch_size):
    batch = images[start:start + batch_size]
    count = batch.shape[0]
    if count < batch_size:  # Edge-pad so the range check and shapes stay unchanged.
      batch = jnp.concatenate([jnp.asarray(batch)]
                              + [jnp.asarray(batch[-1:])] * (batch_size - count))
    out, bmin, bmax = _apply(variables, jnp.asarray(batch, jnp.float32), resize_input, outputs)
    if pending is not None:
      collect(pending)
    pending = (out, bmin, bmax, count)
  if pending is not None:
    collect(pending)
  dims = {"pool3": FEATURE_DIM, "logits": NUM_CLASSES, "logits_unbiased": NUM_CLASSES}
  return {k: np.concatenate(v) if v else np.zeros((0, dims[k]), np.float32)
          for k, v in results.items()}


def inception_features(variables: Variables, images: Any, *, batch_size: int = 50,
                       resize_input: bool = True) -> np.ndarray:
  """The [N, 2048] pool3 features used by FID/KID, for [N, H, W, 3] images in [-1, 1]."""
  return inception_outputs(variables, images, batch_size=batch_size, outputs=("pool3",),
                           resize_input=resize_input)["pool3"]
