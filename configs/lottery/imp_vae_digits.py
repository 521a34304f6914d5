"""Lottery tickets of a VAE (DCGAN width 32 backbone) on the embedded digits (16x16).

    python -m jaxgen.main --config configs/lottery/imp_vae_digits.py \
        --workdir runs/lottery/imp_vae_digits

Gaussian encoder (the DCGAN discriminator's convs + Dense), Bernoulli decoder (the DCGAN
generator emitting logits, with configs/lottery/imp_dcgan_digits.py's generator: width
32, latent 64, so tickets transfer both ways; transfer_*_digits.py). Round 0 trains the
dense VAE (1000 steps, Adam 1e-3); each further round prunes 20% of the remaining
weights of the encoder and decoder jointly (global magnitude), rewinds to step 10 and
retrains. Headline metric: held-out -ELBO in nats (`pruning.metric`; FID-digits of the
samples is recorded too). Prune one net: --config.pruning.scope=g (or enc). Baselines:
--config.pruning.method=snip / grasp (scored on the negative ELBO of one batch), or
random / reinit with --config.pruning.reference=<this workdir>.
Last measured (experiments/lottery/README.md, seed 0, --config.pruning.scope=g, 14
rounds): held-out -ELBO (all 360 test digits) 102.98 dense, 102.19 at 95.6% decoder
sparsity; random pruning 106.17 and random reinit 103.19 there; ~30-50 s per round.
"""

from jaxgen import config_base
from jaxgen.trainers.autoencoder import loss_config


def get_config():
  config = config_base.digits_autoencoder_config("vae", loss_config("bernoulli"))
  config.model.output_activation = "none"  # the Bernoulli decoder emits logits
  config_base.lottery(config, rounds=5, scope="both", method="imp")
  config.pruning.metric = "nelbo"  # the headline of imp.jsonl's plot; '' = FID-digits
  return config
