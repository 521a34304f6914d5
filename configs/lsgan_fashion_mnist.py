"""LSGAN (Mao et al. 2017) on Fashion-MNIST 32x32: least-squares loss with 0-1-1 coding.

    python -m jaxgen.main --config configs/lsgan_fashion_mnist.py

Last measured (experiments/zoo/results.md, `python experiments/zoo/train_zoo.py`):
2000 generator steps in 13.3 min on 2 shared CPU cores; on 2000 samples,
FID-fashion_mnist 0.648, KID 0.016, IS 3.86, precision 0.688, recall 0.561 (jaxgen's
fashion_mnist classifier features, not Inception).
"""

from jaxgen.config_base import fashion_mnist_config


def get_config():
  config = fashion_mnist_config()
  config.loss.name = "lsgan"
  return config
