"""Real NVP on CIFAR-10 with the paper's multi-scale settings, for accelerators.

    python -m jaxgen.main --config configs/realnvp_cifar10.py \
        --config.dataset.data_dir=$HOME/tensorflow_datasets

Dinh et al. (2017): 3 scales (2 factor-outs), logit pre-processing with alpha 0.05,
Adam 1e-3, batch 64; jaxgen's coupling nets are 3x3-1x1-3x3 convs of width 512 (the paper:
8 residual blocks of 64 features) and actnorm replaces batch norm. Paper: 3.49 bits/dim;
not measured here (needs the TFDS data and an accelerator).
"""

from jaxgen.config_base import flow_config


def get_config():
  config = flow_config("realnvp", "tfds:cifar10", image_size=32)
  config.flow.update(levels=3, width=512, num_bins=256, preprocess="logit")
  config.train.update(num_steps=500_000, log_every=500, sample_every=10_000,
                      checkpoint_every=10_000)
  config.eval.every = 50_000
  return config
