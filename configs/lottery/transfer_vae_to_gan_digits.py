"""VAE -> GAN ticket transfer on the digits: the VAE decoder's IMP masks train a DCGAN generator.

    python -m jaxgen.main --config configs/lottery/imp_vae_digits.py \
        --workdir runs/lottery/imp_vae_digits          # the reference: VAE IMP, 5 rounds
    python -m jaxgen.main --config configs/lottery/transfer_vae_to_gan_digits.py \
        --workdir runs/lottery/transfer_vae_to_gan_digits

Round r applies the `g` (decoder) masks of the VAE run's round r (`pruning.reference`)
to the generator of configs/lottery/imp_dcgan_digits.py's GAN (DCGAN width 32, latent
64, 16x16) at the GAN's own rewind point (step 10) and trains it; the discriminator
stays dense. The reference prunes encoder and decoder jointly, so G's sparsity is the
VAE decoder's of that round. Headline: FID-digits; compare with imp_dcgan_digits.py
--config.pruning.scope=g.
"""

from jaxgen import config_base


def get_config():
  config = config_base.base_config()
  config.model.width = 32
  config_base.lottery(config, rounds=5, scope="g", method="transfer")
  config.pruning.reference = "runs/lottery/imp_vae_digits"
  config.pruning.metric = ""       # '' = FID-digits
  return config
