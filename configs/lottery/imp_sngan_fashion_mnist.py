"""Lottery tickets of an SNGAN (DCGAN width 32, spectrally normalised D) on Fashion-MNIST.

    python -m jaxgen.main --config configs/lottery/imp_sngan_fashion_mnist.py \
        --workdir runs/lottery/imp_sngan_fashion_mnist

The DCGAN-style "standard CNN" SNGAN of Miyato et al. (2018) at CPU size: spectral norm
on every conv of D (no BatchNorm there), BatchNorm in G, hinge loss, Adam 2e-4 (0.5,
0.999), one D step per G step, 1000 steps per round at 32x32. 5 rounds of 20% global
magnitude pruning of G and D jointly, rewinding to step 10. Headline: FID-fashion_mnist.
"""

from jaxgen import config_base


def get_config():
  config = config_base.fashion_mnist_config()
  config.model.width = 32
  config.model.d_norm = "spectral"
  config.loss.name = "hinge"
  config_base.lottery(config, rounds=5, scope="both", method="imp")
  config.pruning.metric = ""       # '' = FID-<dataset>
  return config
