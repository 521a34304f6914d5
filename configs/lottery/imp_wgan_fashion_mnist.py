"""Lottery tickets of a WGAN (Arjovsky et al. 2017; DCGAN width 32) on Fashion-MNIST 32x32.

    python -m jaxgen.main --config configs/lottery/imp_wgan_fashion_mnist.py \
        --workdir runs/lottery/imp_wgan_fashion_mnist

The original WGAN: critic weights clipped to [-0.01, 0.01] (pruned weights stay 0),
RMSProp 5e-5, 5 critic steps per G step; 1000 G steps per round at CPU size (width 32),
so samples stay rough. 5 rounds of 20% global magnitude pruning of G and D jointly,
rewinding to step 10. Headline: FID-fashion_mnist. WGAN-GP instead:
--config.loss.name=wgan_gp --config.loss.clip_d_weights=0 --config.model.d_norm=layer.
"""

from jaxgen import config_base


def get_config():
  config = config_base.fashion_mnist_config()
  config.model.width = 32
  config.loss.name = "wgan"
  config.loss.clip_d_weights = 0.01
  config.train.n_critic = 5
  config.optim.g = config_base.optimizer(lr=5e-5, name="rmsprop")
  config.optim.d = config_base.optimizer(lr=5e-5, name="rmsprop")
  config_base.lottery(config, rounds=5, scope="both", method="imp")
  config.pruning.metric = ""       # '' = FID-<dataset>
  return config
