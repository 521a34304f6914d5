"""Glow (Kingma & Dhariwal 2018) on scikit-learn digits at their native 8x8, 17 levels.

    python -m jaxgen.main --config configs/glow_digits.py

2 levels x 4 steps of [actnorm, LU 1x1 conv, affine coupling (sigmoid scale, 3x3-1x1-3x3
convs of width 32)], learned conditional prior at the factor-out, uniform dequantisation
of the 17 grey levels (bits/dim of 17-level data: a uniform model has log2 17 = 4.09),
Adam 1e-3, batch 64, 3000 steps; held-out bits/dim on the 360 test digits at the end.
Measured (seed 0, 2 CPU cores at load ~2): 38 s of training (200 steps/s); held-out
2.443 bits/dim (-24.7 nats per image); samples in the workdir. With
--config.flow.dequantize=variational (Flow++'s learned noise): 2.410, 116 s. Before
c5ca393 (1x3 coupling kernels): 2.437.
"""

from jaxgen.config_base import cpu_schedule, flow_config


def get_config():
  config = flow_config("glow", "digits")
  config.flow.update(levels=2, steps=4, width=32, num_bins=17)
  config.eval.every = 3000
  return cpu_schedule(config, 3000, sample_every=1000)
