"""StyleGAN2 on CIFAR-10 with the paper's settings (stylegan2-ada-pytorch `--cfg=cifar`).

Conditional (class embedding into the mapping network, projection D), 512 channels at
every resolution, z = w = 512, 2 mapping layers, batch 64, minibatch-stddev groups of
32, Adam lr 0.0025 betas (0, 0.99), R1 gamma 0.01 every 16 steps, no path-length
regularisation and no style mixing, G EMA over 500k images; 100M images shown.
Differences: a residual D (the paper's cifar D is 'orig'); the lazy regularisers add
their gradient to the main step instead of their own Adam step. Meant for an accelerator:

    python -m jaxgen.main --config configs/stylegan2_cifar10.py --config.dataset.data_dir=~/tensorflow_datasets

Not measured here (needs the prepared TFDS data and an accelerator).
"""

from jaxgen.config_base import stylegan2_cifar10_config


def get_config():
  config = stylegan2_cifar10_config()
  return config
