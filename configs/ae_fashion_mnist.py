"""Deterministic autoencoder with the DCGAN backbone on Fashion-MNIST at 32x32 (MSE loss).

    python -m jaxgen.main --config configs/ae_fashion_mnist.py

Encoder: the DCGAN discriminator's convs + Dense to a 32-d code; decoder: the DCGAN
generator (tanh output), 1000 steps of batch 64. Measured on 2 shared CPU cores (load ~7):
4.0 min wall; held-out (10k test images) per-pixel MSE 0.0203 on the [-1, 1] scale.
Sample grids decode N(0, I) codes, which an AE does not model; judge it by reconstructions.
"""

from jaxgen.config_base import base_config, optimizer
from jaxgen.trainers.autoencoder import loss_config


def get_config():
  config = base_config()
  config.trainer = "ae"
  config.dataset.name = "fashion_mnist"
  config.dataset.image_size = 32
  config.model.latent_dim = 32
  config.loss = loss_config("mse")
  config.optim.g = optimizer(lr=1e-3, b1=0.9)    # the decoder (= the GAN generator)
  config.optim.enc = optimizer(lr=1e-3, b1=0.9)  # the encoder
  config.train.num_steps = 1000
  config.train.sample_every = 500
  config.train.checkpoint_every = 500
  return config
