"""ADC-GAN (Hou et al. 2022) on Fashion-MNIST 32x32: D's auxiliary classifier tells 2K
classes apart (real class k vs generated class k), which removes AC-GAN's bias towards
easy-to-classify samples.

    python -m jaxgen.main --config configs/adcgan_fashion_mnist.py
"""

from jaxgen.config_base import fashion_mnist_config


def get_config():
  config = fashion_mnist_config()
  config.model.cond = "adcgan"
  config.loss.cls_weight = 1.0
  return config
