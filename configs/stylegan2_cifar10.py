"""StyleGAN2 on CIFAR-10 with the paper's settings (stylegan2-ada-pytorch `--cfg=cifar`).

Conditional (class embedding into the mapping network, projection D), 512 channels at
every resolution, z = w = 512, 2 mapping layers, batch 64, minibatch-stddev groups of
32, Adam lr 0.0025 betas (0, 0.99), R1 gamma 0.01 every 16 steps, no path-length
regularisation and no style mixing, G EMA over 500k images; 100M images shown.
Differences: a residual D (the paper's cifar D is 'orig'); the lazy regularisers add
their gradient to the main step instead of their own Adam step. Meant for an accelerator:

    python -m jaxgen.main --config configs/stylegan2_cifar10.py --config.dataset.data_dir=~/tensorflow_datasets

Not measured here (needs the prepared TFDS data and an accelerator).
"""

from jaxgen.config_base import stylegan2_config


def get_config():
  config = stylegan2_config("tfds:cifar10", 32, width=512, latent_dim=512, batch_size=64,
                            num_steps=100_000_000 // 64)
  config.model.update(cond="projection", mbstd_group=32)
  config.stylegan2.update(r1_gamma=0.01, pl_weight=0.0, style_mixing_prob=0.0)
  config.train.update(ema_decay=0.5 ** (64 / 500_000), sample_every=10_000,
                      checkpoint_every=10_000, log_every=1000)
  return config
