"""DCGAN on Fashion-MNIST (28x28 resized to 32x32), read from local IDX files.

    apt-get install dataset-fashion-mnist   # puts the files in /usr/share/datasets/fashion-mnist
    python -m jaxgen.main --config configs/dcgan_fashion_mnist.py
"""

from jaxgen.config_base import fashion_mnist_config


def get_config():
  return fashion_mnist_config()
