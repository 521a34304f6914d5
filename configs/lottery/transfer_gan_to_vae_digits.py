"""GAN -> VAE ticket transfer on the digits: the DCGAN generator's IMP masks train a VAE decoder.

    python -m jaxgen.main --config configs/lottery/imp_dcgan_digits.py \
        --workdir runs/lottery/imp_dcgan_digits        # the reference: GAN IMP, 5 rounds
    python -m jaxgen.main --config configs/lottery/transfer_gan_to_vae_digits.py \
        --workdir runs/lottery/transfer_gan_to_vae_digits

Round r applies the `g` masks of the GAN run's round r (`pruning.reference`;
masks/round_<r>.npz) to this VAE's decoder at the VAE's own rewind point (its step 10:
neither re-initialised nor random) and trains the VAE; the encoder stays dense. The
model is configs/lottery/imp_vae_digits.py (decoder = the GAN generator: DCGAN width 32,
latent 64, 16x16; only the output activation differs, which has no parameters). The
reference prunes G and D jointly, so the decoder's sparsity is the GAN's G sparsity of
that round, not exactly 1 - 0.8^r. Compare with imp_vae_digits.py --config.pruning.scope=g.
Last measured (experiments/lottery/README.md, seed 0, 10 rounds from the seed-0 DCGAN IMP
run): held-out -ELBO 102.70 at 21.5% decoder sparsity, 103.36 at 90.7%, 105.02 at 96.6%.
"""

from jaxgen import config_base
from jaxgen.trainers.autoencoder import loss_config


def get_config():
  config = config_base.digits_autoencoder_config("vae", loss_config("bernoulli"))
  config.model.output_activation = "none"  # the Bernoulli decoder emits logits
  config_base.lottery(config, rounds=5, scope="g", method="transfer")
  config.pruning.reference = "runs/lottery/imp_dcgan_digits"
  config.pruning.metric = "nelbo"
  return config
