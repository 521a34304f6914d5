"""AC-GAN (Odena et al. 2017) on Fashion-MNIST 32x32: D also classifies real and generated
images; G is rewarded when its samples are classified as the requested class.

    python -m jaxgen.main --config configs/acgan_fashion_mnist.py
"""

from jaxgen.config_base import fashion_mnist_config


def get_config():
  config = fashion_mnist_config()
  config.model.cond = "acgan"
  config.loss.cls_weight = 1.0
  return config
