"""Real NVP (Dinh et al. 2017) on Fashion-MNIST at its native 28x28 (8-bit bits/dim).

    python -m jaxgen.main --config configs/realnvp_fashion_mnist.py

2 scales (28x28 checkerboard couplings, squeeze to 14x14, channel couplings, factor-out,
checkerboard couplings on the rest), tanh-scaled affine couplings with 3x3-1x1-3x3 conv
nets of width 64, actnorm in place of batch norm, logit pre-processing (alpha 0.05, its
log-det counted), uniform dequantisation of 256 levels, Adam 1e-3, batch 64, 2000 steps;
held-out bits/dim on the 10k test images at the end. Measured (seed 0, 2 quiet cores):
206 s of training (8.6 steps/s); held-out 3.601 bits/dim (Glow's config: 4.430). Under
attack (1000 steps, 500 fixed test images, seeds 0 and 1): 3.667 ± 0.016 clean -> 31.5 ±
5.7 bits/dim at L-inf PGD 0.1 on [-1, 1], and 6.60 ± 0.03 after hybrid adversarial
training: experiments/flow_robustness/README.md.
"""

from jaxgen.config_base import cpu_schedule, flow_config


def get_config():
  config = flow_config("realnvp", "fashion_mnist")
  config.flow.update(levels=2, width=64, num_bins=256, preprocess="logit")
  config.eval.every = 2000
  return cpu_schedule(config, 2000, sample_every=1000)
