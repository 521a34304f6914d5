"""The base config every file in `configs/` starts from: every field, with its meaning."""

from __future__ import annotations

import ml_collections


def optimizer(lr: float = 2e-4, b1: float = 0.5, b2: float = 0.999,
              name: str = "adam") -> ml_collections.ConfigDict:
  """One network's optimizer block (see jaxgen/optim.py for names and schedules)."""
  return ml_collections.ConfigDict(dict(
      name=name,            # adam | adamw | rmsprop | sgd
      lr=lr,                # peak learning rate
      b1=b1, b2=b2,         # Adam betas (DCGAN: 0.5, 0.999)
      schedule="constant",  # constant | linear (decay to 0) | cosine
      warmup_steps=0,       # for the cosine schedule
      grad_clip=0.0,        # global-norm clipping; 0 = off
  ))


def base_config() -> ml_collections.ConfigDict:
  """DCGAN on the embedded 16x16 digits; other configs override fields of this."""
  config = ml_collections.ConfigDict()
  config.seed = 0                  # one seed fixes init, data order and noise
  config.trainer = "gan"           # training algorithm (jaxgen/trainers)

  config.dataset = ml_collections.ConfigDict(dict(
      name="digits",     # digits | mnist | fashion_mnist | ring8 | grid25 | mixture | tfds:<name>
      data_dir="",       # '' = the source's default location
      split="train",
      image_size=16,     # resize images to this square side; 0 = native size
  ))

  config.model = ml_collections.ConfigDict(dict(
      name="dcgan",       # dcgan | mlp  (jaxgen/models)
      latent_dim=64,      # size of z ~ N(0, I)
      width=64,           # channels at the largest feature map (MLP: hidden units)
      g_norm="batch",     # generator normalisation: batch | layer | none
      d_norm="batch",     # discriminator normalisation (WGAN-GP wants layer/none)
      conv_impl="auto",   # auto | xla | matmul  (jaxgen/nn)
  ))

  config.loss = ml_collections.ConfigDict(dict(
      name="ns",            # ns | minimax | hinge | wgan | wgan_gp | lsgan
      penalty="auto",       # '' | gp ; auto = the loss's own (gp for wgan_gp)
      penalty_weight=-1.0,  # < 0 = the loss's default (10 for wgan_gp)
      clip_d_weights=0.0,   # WGAN weight clipping bound (0.01 in the paper); 0 = off
  ))

  config.optim = ml_collections.ConfigDict(dict(g=optimizer(), d=optimizer()))

  config.train = ml_collections.ConfigDict(dict(
      batch_size=64,          # global batch, split over all devices
      num_steps=2000,         # generator updates
      n_critic=1,             # discriminator updates per generator update
      steps_per_call=10,      # train steps per jitted call (a lax.scan)
      log_every=100,          # steps between metrics.jsonl / TensorBoard records
      sample_every=500,       # steps between PNG sample grids
      checkpoint_every=1000,  # steps between Orbax checkpoints
      keep_checkpoints=3,     # most recent checkpoints kept
      async_checkpoints=True,
      num_devices=0,          # devices in the data-parallel mesh; 0 = all
      progress_bar=True,
  ))
  return config


def mlp_gan_config(dataset: str) -> ml_collections.ConfigDict:
  """An MLP GAN on a 2-D point dataset (ring8, grid25, mixture): the mode-collapse testbed."""
  config = base_config()
  config.dataset.name = dataset
  config.dataset.image_size = 0
  config.model.name = "mlp"
  config.model.latent_dim = 16
  config.model.width = 128
  config.model.depth = 3
  config.optim.g = optimizer(lr=1e-3, b1=0.5, b2=0.999)
  config.optim.d = optimizer(lr=1e-3, b1=0.5, b2=0.999)
  config.train.batch_size = 256
  config.train.num_steps = 10000
  config.train.steps_per_call = 100
  config.train.log_every = 500
  config.train.sample_every = 2000
  config.train.checkpoint_every = 5000
  return config
