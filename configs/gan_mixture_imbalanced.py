"""MLP GAN on an imbalanced 3x3 grid mixture (weights proportional to 9, 8, ..., 1).

The Normalized-Wasserstein paper's testbed (grid spacing 2); minority modes are the
first to be dropped by a collapsing generator.

    python -m jaxgen.main --config configs/gan_mixture_imbalanced.py
"""

from jaxgen.config_base import mlp_gan_config


def get_config():
  config = mlp_gan_config("mixture")
  config.dataset.means = [[x, y] for x in (-2.0, 0.0, 2.0) for y in (-2.0, 0.0, 2.0)]
  config.dataset.stds = 0.05
  config.dataset.weights = [float(9 - i) for i in range(9)]
  return config
