"""Early-bird channel tickets of a DCGAN (width 64) on Fashion-MNIST 32x32.

    python -m jaxgen.main --config configs/lottery/early_bird_dcgan_fashion_mnist.py \
        --workdir runs/lottery/early_bird_dcgan_fashion_mnist

As configs/lottery/early_bird_dcgan_digits.py at a size where the convolutions, not
per-step overheads, dominate a CPU step: the dense DCGAN trains until its BatchNorm
channel mask (50% of G's channels and of D's, every 50 steps) is stable, then the
narrower DCGAN trains 2000 steps, and so does the dense baseline. early_bird.json has
the FLOPs, wall times and FID-fashion_mnist of both.
"""

from jaxgen import config_base


def get_config():
  config = config_base.fashion_mnist_config()
  return config_base.early_bird_experiment(config, num_steps=2000, ratio=0.5, every=50)
