"""AC-GAN (Odena et al. 2017) on Fashion-MNIST 32x32: D also classifies real and generated
images; G is rewarded when its samples are classified as the requested class.

    python -m jaxgen.main --config configs/acgan_fashion_mnist.py

Last measured (experiments/zoo/results.md, `python experiments/zoo/train_zoo.py`):
1000 generator steps in 7.0 min on 2 shared CPU cores; on 2000 samples,
FID-fashion_mnist 0.489, KID 0.0123, IS 4.48, precision 0.751, recall 0.716 (jaxgen's
fashion_mnist classifier features, not Inception).
"""

from jaxgen.config_base import fashion_mnist_config


def get_config():
  config = fashion_mnist_config()
  config.model.cond = "acgan"
  config.loss.cls_weight = 1.0
  return config
