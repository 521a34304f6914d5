"""Ablation sweeps: many runs of one config trained together in one compiled program."""

from jaxgen.sweeps.grid import Grid, Run, make_grid, parse_values
from jaxgen.sweeps.loop import SweepResult, run_sweep

__all__ = ["Grid", "Run", "SweepResult", "make_grid", "parse_values", "run_sweep"]
