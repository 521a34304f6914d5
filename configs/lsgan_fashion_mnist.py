"""LSGAN (Mao et al. 2017) on Fashion-MNIST 32x32: least-squares loss with 0-1-1 coding.

    python -m jaxgen.main --config configs/lsgan_fashion_mnist.py
"""

from jaxgen.config_base import fashion_mnist_config


def get_config():
  config = fashion_mnist_config()
  config.loss.name = "lsgan"
  return config
