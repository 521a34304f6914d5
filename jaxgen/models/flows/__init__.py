"""Normalizing flows: invertible layers (layers.py) and models by name (models.py, `FLOWS`)."""

from jaxgen.models.flows.dequantizer import VariationalDequantizer
from jaxgen.models.flows.layers import (ActNorm, Coupling, FactorOut, InvConv1x1, Invertible,
                                        Squeeze)
from jaxgen.models.flows.models import FLOWS, Flow2D, Glow, RealNVP, build_flow

__all__ = ["FLOWS", "ActNorm", "Coupling", "FactorOut", "Flow2D", "Glow", "InvConv1x1",
           "Invertible", "RealNVP", "Squeeze", "VariationalDequantizer", "build_flow"]
