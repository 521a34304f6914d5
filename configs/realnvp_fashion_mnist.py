"""Real NVP (Dinh et al. 2017) on Fashion-MNIST at its native 28x28 (8-bit bits/dim).

    python -m jaxgen.main --config configs/realnvp_fashion_mnist.py

2 scales (28x28 checkerboard couplings, squeeze to 14x14, channel couplings, factor-out,
checkerboard couplings on the rest), tanh-scaled affine couplings with 3x3-1x1-3x3 conv
nets of width 64, actnorm in place of batch norm, logit pre-processing (alpha 0.05, its
log-det counted), uniform dequantisation of 256 levels, Adam 1e-3, batch 64, 2000 steps;
held-out bits/dim on the 10k test images at the end. Measured with 1000 of the steps
(experiments/flow_robustness, seeds 0 and 1, 2 cores shared with a second training):
213 and 212 s of training; held-out 3.678 and 3.655 bits/dim on 500 fixed test images
(Glow's config: 4.740 ± 0.109 there, n = 3); under L-inf PGD 0.1 on [-1, 1] 31.5 ± 5.7,
after hybrid adversarial training 6.60 ± 0.03 (n = 2). The 2000-step schedule itself
was not timed.
"""

from jaxgen.config_base import cpu_schedule, flow_config


def get_config():
  config = flow_config("realnvp", "fashion_mnist")
  config.flow.update(levels=2, width=64, num_bins=256, preprocess="logit")
  config.eval.every = 2000
  return cpu_schedule(config, 2000, sample_every=1000)
