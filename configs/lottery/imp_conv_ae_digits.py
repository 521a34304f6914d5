"""Lottery tickets of a convolutional autoencoder (DCGAN width 32 backbone) on the digits.

    python -m jaxgen.main --config configs/lottery/imp_conv_ae_digits.py \
        --workdir runs/lottery/imp_conv_ae_digits

Encoder: the DCGAN discriminator's convs + Dense to a 64-d code; decoder: the DCGAN
generator (tanh), MSE loss, Adam 1e-3 (the paper's conv AE; it also uses weight decay
1e-5), 1000 steps per round, 5 rounds of 20% global magnitude pruning of both nets,
rewinding to step 10. Headline metric: held-out per-pixel reconstruction MSE on the
[-1, 1] scale (no FID: an AE does not model N(0, I) codes).
"""

from jaxgen import config_base
from jaxgen.trainers.autoencoder import loss_config


def get_config():
  config = config_base.digits_autoencoder_config("ae", loss_config("mse"))
  config.eval.feature_net = "none"  # only the held-out reconstruction metrics
  config_base.lottery(config, rounds=5, scope="both", method="imp")
  config.pruning.metric = "mse"
  return config
