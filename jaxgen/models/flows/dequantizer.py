"""Variational dequantisation (Ho et al. 2019, Flow++): a learned noise q(u | x) on [0, 1)^D.

u = sigmoid(v), v = g(e; x) with e ~ N(0, I) and g a stack of checkerboard affine
couplings whose networks also see features of x. Replacing uniform noise by q tightens
the bound on the discrete likelihood: -log P(x) <= E_q[-log p(x + w (u - 1/2)) + log q(u | x)]
- D log w (uniform q: log q = 0).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax.scipy.stats import norm

from jaxgen import nn as jnn
from jaxgen.models.flows.layers import Coupling

Array = jax.Array


class VariationalDequantizer(nn.Module):
  """(x, e) -> (u in (0, 1)^D, log q(u | x) per example), e ~ N(0, I) shaped like x."""
  hidden: int = 32
  steps: int = 4
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: Array, e: Array) -> tuple[Array, Array]:
    image = x.ndim == 4
    h = x
    for _ in range(2):  # features of x shared by every coupling
      h = (jnn.Conv(self.hidden, (3, 3), impl=self.conv_impl)(h) if image
           else nn.Dense(self.hidden)(h))
      h = nn.relu(h)
    log_q = jnp.sum(norm.logpdf(e).reshape(e.shape[0], -1), axis=-1)
    v = e
    for i in range(self.steps):  # zero-initialised: v = e at the start
      v, logdet = Coupling("checkerboard", i % 2, self.hidden, scale="tanh",
                           conv_impl=self.conv_impl)(v, context=h)
      log_q = log_q - logdet
    # u = sigmoid(v): log |du/dv| = log sigmoid(v) + log sigmoid(-v).
    log_q = log_q - jnp.sum((jax.nn.log_sigmoid(v) + jax.nn.log_sigmoid(-v))
                            .reshape(v.shape[0], -1), axis=-1)
    return jax.nn.sigmoid(v), log_q
