"""DCGAN on Fashion-MNIST (28x28 resized to 32x32), read from local IDX files.

    apt-get install dataset-fashion-mnist   # puts the files in /usr/share/datasets/fashion-mnist
    python -m jaxgen.main --config configs/dcgan_fashion_mnist.py
"""

from jaxgen.config_base import base_config


def get_config():
  config = base_config()
  config.dataset.name = "fashion_mnist"
  config.dataset.image_size = 32
  config.model.latent_dim = 100
  config.train.num_steps = 5000
  config.train.sample_every = 1000
  return config
