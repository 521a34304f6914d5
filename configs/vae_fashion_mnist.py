"""VAE with the DCGAN backbone on Fashion-MNIST (28x28 resized to 32x32).

    python -m jaxgen.main --config configs/vae_fashion_mnist.py

Gaussian encoder (the DCGAN discriminator's convs + Dense), Bernoulli decoder (the DCGAN
generator emitting logits, same parameter tree as configs/dcgan_fashion_mnist.py's
generator), 32-d latent, 1000 steps of batch 64. Measured on 2 shared CPU cores: 4.3 min
wall at load ~7 (44 min at load ~20); `python -m jaxgen.evaluate --workdir
runs/vae_fashion_mnist --feature_net none`: held-out (all 10000 test images) -ELBO 331.8
nats, KL 17.6 nats, per-pixel MSE 0.047 on the [-1, 1] scale, 0.467 bits/dim, which is a
cross-entropy of the grey levels under the Bernoulli decoder, not a likelihood of 8-bit
data; recognisable but blurry samples. Beta-VAE: --config.loss.beta=4.
"""

from jaxgen.config_base import base_config, optimizer
from jaxgen.trainers.autoencoder import loss_config


def get_config():
  config = base_config()
  config.trainer = "vae"
  config.dataset.name = "fashion_mnist"
  config.dataset.image_size = 32
  config.model.latent_dim = 32
  config.model.output_activation = "none"  # the Bernoulli decoder emits logits
  config.loss = loss_config("bernoulli")
  config.optim.g = optimizer(lr=1e-3, b1=0.9)    # the decoder (= the GAN generator)
  config.optim.enc = optimizer(lr=1e-3, b1=0.9)  # the encoder
  config.train.num_steps = 1000
  config.train.sample_every = 500
  config.train.checkpoint_every = 500
  return config
