"""WGAN-GP (Gulrajani et al. 2017) on Fashion-MNIST 32x32: the paper's settings (5 critic
steps per G step, Adam 1e-4 with betas (0, 0.9), penalty weight 10); the critic uses
LayerNorm because the gradient penalty is per example.

    python -m jaxgen.main --config configs/wgan_gp_fashion_mnist.py

Last measured (experiments/zoo/results.md, `python experiments/zoo/train_zoo.py`):
500 generator steps in 9.2 min on 2 shared CPU cores; on 2000 samples,
FID-fashion_mnist 1.86, KID 0.0443, IS 3.26, precision 0.659, recall 0.533 (jaxgen's
fashion_mnist classifier features, not Inception).
"""

from jaxgen.config_base import fashion_mnist_config, optimizer


def get_config():
  config = fashion_mnist_config()
  config.loss.name = "wgan_gp"
  config.model.d_norm = "layer"
  config.train.n_critic = 5
  config.optim.g = optimizer(lr=1e-4, b1=0.0, b2=0.9)
  config.optim.d = optimizer(lr=1e-4, b1=0.0, b2=0.9)
  return config
