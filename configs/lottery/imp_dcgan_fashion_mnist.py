"""Lottery tickets of a DCGAN (width 32) on Fashion-MNIST 32x32: IMP with late rewinding.

    apt-get install dataset-fashion-mnist   # the local IDX files
    python -m jaxgen.main --config configs/lottery/imp_dcgan_fashion_mnist.py \
        --workdir runs/lottery/imp_dcgan_fashion_mnist

configs/dcgan_fashion_mnist.py at CPU size (width 32, 1000 steps per round): 5 rounds
that prune 20% of the remaining weights of G and D jointly (global magnitude), rewind to
step 10 and retrain. Headline metric: FID-fashion_mnist (jaxgen's Fashion-MNIST
classifier features, trained into the cache on first use; not Inception FID).
"""

from jaxgen import config_base


def get_config():
  config = config_base.fashion_mnist_config()
  config.model.width = 32
  config_base.lottery(config, rounds=5, scope="both", method="imp")
  config.pruning.metric = ""       # '' = FID-<dataset>
  return config
