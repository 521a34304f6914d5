"""MLP GAN on an imbalanced 3x3 grid mixture (weights proportional to 9, 8, ..., 1).

The Normalized-Wasserstein paper's testbed (grid spacing 2); minority modes are the
first to be dropped by a collapsing generator.

    python -m jaxgen.main --config configs/gan_mixture_imbalanced.py
"""

from jaxgen.config_base import base_config, optimizer


def get_config():
  config = base_config()
  config.dataset.name = "mixture"
  config.dataset.image_size = 0
  config.dataset.means = [[x, y] for x in (-2.0, 0.0, 2.0) for y in (-2.0, 0.0, 2.0)]
  config.dataset.stds = 0.05
  config.dataset.weights = [float(9 - i) for i in range(9)]
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
