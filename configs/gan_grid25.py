"""MLP GAN on a 5x5 grid of Gaussians (spacing 2, std 0.05), the VEEGAN/PacGAN testbed.

    python -m jaxgen.main --config configs/gan_grid25.py
"""

from jaxgen.config_base import base_config, optimizer


def get_config():
  config = base_config()
  config.dataset.name = "grid25"
  config.dataset.image_size = 0
  config.model.name = "mlp"
  config.model.latent_dim = 16
  config.model.width = 256
  config.model.depth = 3
  config.optim.g = optimizer(lr=1e-3, b1=0.5, b2=0.999)
  config.optim.d = optimizer(lr=1e-3, b1=0.5, b2=0.999)
  config.train.batch_size = 256
  config.train.num_steps = 20000
  config.train.steps_per_call = 100
  config.train.log_every = 500
  config.train.sample_every = 4000
  config.train.checkpoint_every = 10000
  return config
