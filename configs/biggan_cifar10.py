"""A small BigGAN (Brock et al. 2019) for class-conditional CIFAR-10.

Shared class embedding, hierarchical latent, conditional BatchNorm, self-attention at
16x16, spectral norm in G and D, projection discriminator, hinge loss, 4 D steps per G
step, orthogonal regularisation 1e-4, EMA of G (0.9999 from step 1000) for sampling,
following StudioGAN's CIFAR-10 BigGAN. Sample with `--config.eval.truncation=1.0` for the
truncation trick. Needs prepared TFDS data and an accelerator:

    python -m jaxgen.main --config configs/biggan_cifar10.py --config.dataset.data_dir=DIR
"""

from jaxgen.config_base import base_config, optimizer


def get_config():
  config = base_config()
  config.dataset.name = "tfds:cifar10"
  config.dataset.image_size = 32
  config.model.name = "biggan"
  config.model.cond = "projection"
  config.model.latent_dim = 128
  config.model.width = 96
  config.model.g_norm = "spectral"
  config.model.d_norm = "spectral"
  config.model.attention_res = 16
  config.loss.name = "hinge"
  config.loss.g_ortho_weight = 1e-4
  config.optim.g = optimizer(lr=2e-4, b1=0.5, b2=0.999)
  config.optim.d = optimizer(lr=2e-4, b1=0.5, b2=0.999)
  config.train.n_critic = 4
  config.train.ema_decay = 0.9999
  config.train.ema_start = 1000
  config.train.num_steps = 100000
  config.train.sample_every = 5000
  config.train.checkpoint_every = 5000
  return config
