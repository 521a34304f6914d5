"""SAGAN (Zhang et al. 2019): SNGAN's ResNet with self-attention at 16x16 in G and D.

Spectral norm in both networks and TTUR learning rates (G 1e-4, D 4e-4, betas (0, 0.9)),
one D step per G step, hinge loss. Needs prepared TFDS data and an accelerator:

    python -m jaxgen.main --config configs/sagan_cifar10.py --config.dataset.data_dir=DIR
"""

from jaxgen.config_base import base_config, optimizer


def get_config():
  config = base_config()
  config.dataset.name = "tfds:cifar10"
  config.dataset.image_size = 32
  config.model.name = "resnet"
  config.model.latent_dim = 128
  config.model.width = 128
  config.model.g_norm = "spectral"
  config.model.d_norm = "spectral"
  config.model.attention_res = 16
  config.loss.name = "hinge"
  config.optim.g = optimizer(lr=1e-4, b1=0.0, b2=0.9)
  config.optim.d = optimizer(lr=4e-4, b1=0.0, b2=0.9)
  config.train.num_steps = 100000
  config.train.sample_every = 5000
  config.train.checkpoint_every = 5000
  return config
