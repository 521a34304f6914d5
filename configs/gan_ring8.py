"""MLP GAN on 8 Gaussians on a ring (radius 2, std 0.02): the mode-collapse testbed.

    python -m jaxgen.main --config configs/gan_ring8.py
"""

from jaxgen.config_base import mlp_gan_config


def get_config():
  return mlp_gan_config("ring8")
