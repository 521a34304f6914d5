"""WGAN-GP (Gulrajani et al. 2017) on Fashion-MNIST 32x32: the paper's settings (5 critic
steps per G step, Adam 1e-4 with betas (0, 0.9), penalty weight 10); the critic uses
LayerNorm because the gradient penalty is per example.

    python -m jaxgen.main --config configs/wgan_gp_fashion_mnist.py
"""

from jaxgen.config_base import fashion_mnist_config, optimizer


def get_config():
  config = fashion_mnist_config()
  config.loss.name = "wgan_gp"
  config.model.d_norm = "layer"
  config.train.n_critic = 5
  config.optim.g = optimizer(lr=1e-4, b1=0.0, b2=0.9)
  config.optim.d = optimizer(lr=1e-4, b1=0.0, b2=0.9)
  return config
