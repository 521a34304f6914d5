"""Projection discriminator (Miyato & Koyama 2018) on Fashion-MNIST 32x32 with the hinge
loss: D's logit adds <embed(y), features>.

    python -m jaxgen.main --config configs/projection_fashion_mnist.py
"""

from jaxgen.config_base import fashion_mnist_config


def get_config():
  config = fashion_mnist_config()
  config.model.cond = "projection"
  config.loss.name = "hinge"
  return config
