"""Bits per dimension from a continuous NLL of dequantised discrete data.

Only a likelihood of the discrete data gives comparable bits/dim; a Bernoulli VAE's
"bits/dim" on grey levels is a cross-entropy (see `bits_per_dim`).
"""

from __future__ import annotations

import math
from typing import Any


def bits_per_dim(nll_nats_per_example: Any, num_dims: int, *,
                 data_scale: float | None, num_bins: int = 256) -> Any:
  """Converts -log p(y) in nats per example to bits per dimension of the discrete data.

  Convention (uniform dequantisation; Theis et al. 2016, Real NVP, Glow): integer
  data x in {0, ..., num_bins - 1}^D are mapped affinely, with uniform noise, onto
  an interval of width `data_scale` per dimension, so each value owns a bin of
  width data_scale / num_bins. By Jensen,
  -log P(x) <= E_u[-log p(y)] + D log(num_bins / data_scale), and

      bpd = (nll + D * ln(num_bins / data_scale)) / (D * ln 2).

  For 8-bit data: data_scale=1 for [0, 1] (y = (x + u) / 256; offset +8 bits/dim),
  2 for [-1, 1] (y = 2 (x + u) / 256 - 1; offset +7), 256 for raw pixel values
  (y = x + u; offset 0). If data were scaled as x / 127.5 - 1 with noise of width
  1 / 127.5, the bins are 2 / 255 wide: pass data_scale = 2 * 256 / 255. Pass
  None if `nll` is already a discrete log-likelihood (or the data are continuous)
  to get just nll / (D ln 2). The nll must include any Jacobian of preprocessing
  done inside the model (e.g. a logit transform). Works elementwise on floats,
  NumPy and JAX arrays (also under jit).

  A Bernoulli decoder on grey levels (jaxgen's VAE with loss.likelihood='bernoulli',
  data_scale=None) gives a cross-entropy of the grey levels in bits/dim, NOT a likelihood
  of 8-bit data: it is not comparable with dequantised 8-bit bits/dim (Real NVP, Glow).
  """
  if num_dims <= 0:
    raise ValueError(f"num_dims must be positive, got {num_dims}")
  if data_scale is None:
    offset = 0.0
  else:
    if data_scale <= 0 or num_bins <= 0:
      raise ValueError("data_scale and num_bins must be positive")
    offset = num_dims * math.log(num_bins / data_scale)
  return (nll_nats_per_example + offset) / (num_dims * math.log(2.0))
