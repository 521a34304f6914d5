"""InvGAN: an encoder inverting the frozen DCGAN of `make demo` (digits 16x16).

Kept here, not in configs/: it needs a trained GAN run first (invgan.gan_workdir), which
tests/test_configs.py's per-config smoke test does not have.

    python -m jaxgen.main --config configs/default.py --workdir runs/default   # G first
    python -m jaxgen.main --config experiments/robustness/invgan_digits.py --workdir runs/invgan_digits
    python experiments/robustness/invgan_curves.py --workdir runs/invgan_digits

E mirrors the GAN's discriminator (DCGAN convs + Dense to z), D is a fresh DCGAN
discriminator; the paper's losses (recon 100 x relu(L1 - 0.02), latent MSE, NS
adversarial term), Adam 2e-4 (E) / 4e-4 (D), b1 0.5, batch 64, 1000 steps (paper: 20k).
Measured with --config.train.num_steps=600 (3.7 min wall, load ~20; G = configs/default.py
trained 2000 steps): reconstruction L1 0.086 -> 0.062 per pixel, latent MSE 1.22 -> 1.29
(not yet falling: tests/test_invgan.py sees it rise first and fall after ~1500 steps).
Inversion and defence numbers: experiments/robustness/README.md.
"""

from jaxgen.config_base import base_config, invgan, optimizer


def get_config():
  config = base_config()                   # the GAN's dataset: digits at 16x16
  config.trainer = "invgan"
  config.invgan = invgan("runs/default")   # the G to invert: a jaxgen GAN run
  config.optim.enc = optimizer(lr=2e-4, b1=0.5)
  config.optim.d = optimizer(lr=4e-4, b1=0.5)
  config.train.num_steps = 1000
  config.train.sample_every = 500
  config.train.checkpoint_every = 500
  config.eval.feature_net = "none"
  return config
