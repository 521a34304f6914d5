"""Conditional DCGAN (Mirza & Osindero 2014) on Fashion-MNIST 32x32: one-hot labels
concatenated to G's latent and to D's input as class maps.

    python -m jaxgen.main --config configs/cgan_fashion_mnist.py
"""

from jaxgen.config_base import fashion_mnist_config


def get_config():
  config = fashion_mnist_config()
  config.model.cond = "concat"
  return config
