"""MLP GAN on 8 Gaussians on a ring (radius 2, std 0.02): the mode-collapse testbed.

    python -m jaxgen.main --config configs/gan_ring8.py
"""

from jaxgen.config_base import base_config, optimizer


def get_config():
  config = base_config()
  config.dataset.name = "ring8"
  config.dataset.image_size = 0
  config.model.name = "mlp"
  config.model.latent_dim = 16
  config.model.width = 128
  config.model.depth = 3
  config.optim.g = optimizer(lr=1e-3, b1=0.5, b2=0.999)
  config.optim.d = optimizer(lr=1e-3, b1=0.5, b2=0.999)
  config.train.batch_size = 256
  config.train.num_steps = 10000
  config.train.steps_per_call = 100
  config.train.log_every = 500
  config.train.sample_every = 2000
  config.train.checkpoint_every = 5000
  return config
