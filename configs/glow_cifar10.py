"""Glow on CIFAR-10 with the paper's settings, for accelerators (not run on CPU).

    python -m jaxgen.main --config configs/glow_cifar10.py \
        --config.dataset.data_dir=$HOME/tensorflow_datasets

Kingma & Dhariwal (2018), openai/glow `--n_level 3 --depth 32 --flow_permutation 2`:
3 levels x 32 steps, coupling width 512, LU 1x1 convs, affine couplings, learned prior,
uniform dequantisation of 8-bit pixels, Adam 1e-3 (the paper: Adamax) with warm-up,
batch 64. Paper: 3.35 bits/dim; not measured here (needs the TFDS data and an accelerator).
"""

from jaxgen.config_base import flow_config


def get_config():
  config = flow_config("glow", "tfds:cifar10", image_size=32)
  config.flow.update(levels=3, steps=32, width=512, num_bins=256)
  config.optim.flow.schedule = "cosine"
  config.optim.flow.warmup_steps = 5000
  config.train.update(num_steps=500_000, log_every=500, sample_every=10_000,
                      checkpoint_every=10_000)
  config.eval.every = 50_000
  config.flow.temperature = 0.7  # Glow's sample grids use T = 0.7
  return config
