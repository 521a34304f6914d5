"""Neural-network layers: flax-compatible convolutions with a CPU-fast lowering."""

from jaxgen.nn.conv import (IMPLS, Conv, ConvTranspose, check_impl, conv, conv_transpose,
                            resolve_impl)
from jaxgen.nn.pool import avg_pool_3x3_same, max_pool_2x2, max_pool_3x3
from jaxgen.nn.spectral_norm import spectral_norm, spectral_sigmas

__all__ = ["IMPLS", "Conv", "ConvTranspose", "avg_pool_3x3_same", "check_impl", "conv",
           "conv_transpose", "max_pool_2x2", "max_pool_3x3", "resolve_impl", "spectral_norm",
           "spectral_sigmas"]
