"""NW-GAN on an image mixture: Fashion-MNIST trousers, sneakers, bags at 0.6 / 0.3 / 0.1.

K = 3 DCGAN generators (width 32, 16x16) as one vmapped module, WGAN-GP critic (layer
norm, as the paper's image runs), 5 critic steps, Adam 2e-4 (0.5, 0.9) for G and D,
1e-3 for the proportions. Each component should specialise to one class and pi should
approach (0.6, 0.3, 0.1).

    python -m jaxgen.main --config configs/nwgan_fashion_mnist_classes.py

Measured (experiments/normalized_wasserstein/image_mixture.py, 2000 steps, seeds 0-2, 13-23
min each on the shared 2 cores): sample class shares 0.598 / 0.293 / 0.109 (max error 0.019
± 0.005), but only 1-2 of the 3 components draw a single class (> 0.9 purity); a plain
WGAN-GP (nwgan.num_components=1) reproduces the shares as well (0.019 ± 0.003).
"""

from jaxgen import config_base


def get_config():
  config = config_base.base_config()
  config.trainer = "nwgan"
  config.dataset.name = "class_mixture"
  config.dataset.source = "fashion_mnist"
  config.dataset.classes = "1,7,8"
  config.dataset.weights = [0.6, 0.3, 0.1]
  config.dataset.image_size = 16
  config.model.width = 32
  config.model.d_norm = "layer"
  config.nwgan = config_base.nwgan(num_components=3)
  config.loss.name = "wgan_gp"
  config.optim.g = config_base.optimizer(lr=2e-4, b1=0.5, b2=0.9)
  config.optim.d = config_base.optimizer(lr=2e-4, b1=0.5, b2=0.9)
  config.optim.pi = config_base.optimizer(lr=1e-3, b1=0.5, b2=0.9)
  config.train.n_critic = 5
  config.train.num_steps = 2000
  config.eval.feature_net = "none"
  return config
