"""DCGAN on Fashion-MNIST (28x28 resized to 32x32), read from local IDX files.

    apt-get install dataset-fashion-mnist   # puts the files in /usr/share/datasets/fashion-mnist
    python -m jaxgen.main --config configs/dcgan_fashion_mnist.py

Last measured (experiments/zoo/results.md, `python experiments/zoo/train_zoo.py`):
2000 generator steps in 8.3 min on 2 shared CPU cores; on 2000 samples,
FID-fashion_mnist 0.198, KID 0.00321, IS 4.34, precision 0.777, recall 0.846 (jaxgen's
fashion_mnist classifier features, not Inception).
"""

from jaxgen.config_base import fashion_mnist_config


def get_config():
  return fashion_mnist_config()
