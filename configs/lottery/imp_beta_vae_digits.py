"""Lottery tickets of a beta-VAE (beta = 4, as in Kalibhat et al.) on the digits (16x16).

    python -m jaxgen.main --config configs/lottery/imp_beta_vae_digits.py \
        --workdir runs/lottery/imp_beta_vae_digits

configs/lottery/imp_vae_digits.py with the KL term weighted by 4 (Higgins et al. 2017):
same DCGAN width 32 backbone, Bernoulli decoder, 1000 steps per round, 5 rounds of 20%
global magnitude pruning of encoder and decoder, rewinding to step 10. The headline
metric is the held-out -ELBO (with KL weight 1, so it compares with the VAE's). The
paper's loss is a summed squared error + 4 KL: --config.loss.likelihood=gaussian
--config.loss.decoder_std=0.7071 --config.model.output_activation=tanh.
"""

from jaxgen import config_base
from jaxgen.trainers.autoencoder import loss_config


def get_config():
  config = config_base.digits_autoencoder_config("vae", loss_config("bernoulli", beta=4.0))
  config.model.output_activation = "none"  # the Bernoulli decoder emits logits
  config_base.lottery(config, rounds=5, scope="both", method="imp")
  config.pruning.metric = "nelbo"
  return config
