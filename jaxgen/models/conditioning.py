"""Class conditioning shared by every model family, selected by `config.model.cond`.

Generators see the class through one-hot(y) appended to z (DCGAN, MLP) or through
conditional BatchNorm (ResNet, BigGAN). Discriminators: 'concat' appends one-hot maps
to the input (Mirza & Osindero 2014); 'projection' adds <embed(y), h> to the logit
(Miyato & Koyama 2018); 'acgan' also returns K class logits (Odena et al. 2017);
'adcgan' returns 2K, real classes then fake ones (Hou et al. 2022).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.nn import spectral_norm

CONDS = ("", "concat", "projection", "acgan", "adcgan")
# Conditioning that needs a head on D's pooled features (the others only feed inputs).
HEAD_CONDS = ("projection", "acgan", "adcgan")

glorot = nn.initializers.xavier_uniform()


def check_cond(cond: str, spec: DataSpec) -> str:
  """Returns `cond` if it is known and the dataset has labels; else a one-line error."""
  if cond not in CONDS:
    raise ConfigError(f"unknown model.cond {cond!r}; choose one of: "
                      f"'' (unconditional), {', '.join(CONDS[1:])}")
  if cond and spec.num_classes == 0:
    raise ConfigError(f"model.cond {cond!r} needs class labels but dataset {spec.name!r} "
                      "has none; use model.cond=''")
  return cond


def concat_one_hot(x: jax.Array, y: jax.Array, num_classes: int) -> jax.Array:
  """Appends one-hot(y): as K constant channels to images [B, H, W, C], else to the
  flattened example [B, D] -> [B, D + K]."""
  one_hot = jax.nn.one_hot(y, num_classes, dtype=x.dtype)
  if x.ndim == 4:
    one_hot = jnp.broadcast_to(one_hot[:, None, None, :], x.shape[:3] + (num_classes,))
  else:
    x = x.reshape(x.shape[0], -1)
  return jnp.concatenate([x, one_hot], axis=-1)


class DiscriminatorHead(nn.Module):
  """Pooled features h [B, F] -> logits [B], or (logits [B], class logits) for
  'acgan' ([B, K]) and 'adcgan' ([B, 2K]: classes 0..K-1 real, K..2K-1 fake)."""
  cond: str = ""
  num_classes: int = 0
  spectral: bool = False
  kernel_init: Any = glorot

  @nn.compact
  def __call__(self, h: jax.Array, y: jax.Array | None,
               train: bool = True) -> jax.Array | tuple[jax.Array, jax.Array]:
    sn = lambda layer: spectral_norm(layer, train, self.spectral)
    logits = sn(nn.Dense(1, kernel_init=self.kernel_init, name="linear"))(h)[:, 0]
    if self.cond == "projection":
      # Miyato & Koyama 2018, eq. (3): f(x, y) = psi(phi(x)) + y^T V phi(x).
      embed = sn(nn.Embed(self.num_classes, h.shape[-1], embedding_init=self.kernel_init,
                          name="embed"))(y)
      logits = logits + jnp.sum(embed * h, axis=-1)
    if self.cond in ("acgan", "adcgan"):
      k = self.num_classes * (2 if self.cond == "adcgan" else 1)
      return logits, sn(nn.Dense(k, kernel_init=self.kernel_init, name="classifier"))(h)
    return logits


class ConditionalBatchNorm(nn.Module):
  """BatchNorm whose gain and bias depend on the class or on a conditioning vector.

  c None: plain BatchNorm. Integer c [B]: per-class gain/bias tables (categorical
  conditional BN, Miyato & Koyama 2018). Float c [B, D]: gain = 1 + W_g c and
  bias = W_b c (BigGAN), with W spectrally normalized if `spectral`. `dtype` is the
  output's (statistics are reduced and kept in float32).
  """
  num_classes: int = 0
  spectral: bool = False
  kernel_init: Any = nn.initializers.orthogonal()
  dtype: Any = None  # compute dtype; None = the params' float32

  @nn.compact
  def __call__(self, x: jax.Array, c: jax.Array | None, train: bool = True) -> jax.Array:
    bn = dict(use_running_average=not train, momentum=0.9, epsilon=1e-5, dtype=self.dtype)
    if c is None:
      return nn.BatchNorm(**bn)(x)
    x = nn.BatchNorm(use_scale=False, use_bias=False, **bn)(x)
    features = x.shape[-1]
    if jnp.issubdtype(c.dtype, jnp.integer):
      if self.num_classes <= 0:
        raise ValueError("ConditionalBatchNorm needs num_classes > 0 for integer labels")
      gain = nn.Embed(self.num_classes, features, embedding_init=nn.initializers.ones,
                      dtype=self.dtype, name="gain")(c)
      bias = nn.Embed(self.num_classes, features, embedding_init=nn.initializers.zeros,
                      dtype=self.dtype, name="bias")(c)
    else:
      linear = lambda name: spectral_norm(
          nn.Dense(features, use_bias=False, kernel_init=self.kernel_init,
                   dtype=self.dtype, name=name),
          train, self.spectral)
      gain = 1.0 + linear("gain")(c)
      bias = linear("bias")(c)
    shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (features,)
    return x * gain.reshape(shape) + bias.reshape(shape)
