"""VAE with a DCGAN backbone on scikit-learn digits at 16x16 (small; the tests use it).

    python -m jaxgen.main --config configs/vae_digits.py

Gaussian encoder (the DCGAN discriminator's convs + Dense), Bernoulli decoder (the DCGAN
generator emitting logits), 16-d latent, 2000 steps of batch 64. Measured on 2 shared CPU
cores (load ~18): 105 s of training; `python -m jaxgen.evaluate --workdir runs/vae_digits`:
held-out (all 360 test digits) -ELBO 101.4 nats (177.5 at init), KL 7.6 nats, per-pixel
MSE 0.042 on the [-1, 1] scale, 0.571 bits/dim, which is a cross-entropy of the grey
levels under the Bernoulli decoder, not a likelihood of 8-bit data; FID-digits 1.63.
"""

from jaxgen.config_base import base_config, optimizer
from jaxgen.trainers.autoencoder import loss_config


def get_config():
  config = base_config()
  config.trainer = "vae"
  config.model.latent_dim = 16
  config.model.width = 32
  config.model.output_activation = "none"  # the Bernoulli decoder emits logits
  config.loss = loss_config("bernoulli")
  config.optim.g = optimizer(lr=1e-3, b1=0.9)    # the decoder (= the GAN generator)
  config.optim.enc = optimizer(lr=1e-3, b1=0.9)  # the encoder
  config.train.num_steps = 2000
  config.train.sample_every = 1000
  return config
