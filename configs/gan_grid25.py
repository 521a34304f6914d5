"""MLP GAN on a 5x5 grid of Gaussians (spacing 2, std 0.05), the VEEGAN/PacGAN testbed.

    python -m jaxgen.main --config configs/gan_grid25.py
"""

from jaxgen.config_base import mlp_gan_config


def get_config():
  config = mlp_gan_config("grid25")
  config.model.width = 256
  config.train.num_steps = 20000
  config.train.sample_every = 4000
  config.train.checkpoint_every = 10000
  return config
