"""Lottery tickets of the paper's DCGAN on CIFAR-10 (Kalibhat et al. 2021): for an accelerator.

    python -m jaxgen.main --config configs/lottery/imp_dcgan_cifar10.py \
        --config.dataset.data_dir=~/tensorflow_datasets \
        --config.eval.inception_weights=<FID Inception .npz> --workdir runs/lottery/imp_dcgan_cifar10

The paper's setting: DCGAN with h = 128 (G: 4h -> 2h -> h -> 3 channels, BatchNorm +
ReLU, tanh; D mirrored with LeakyReLU), latent 32, non-saturating BCE loss, Adam 2e-4
(0.5, 0.999), batch 100, 200 epochs per round (100k steps), 20 rounds of 20% global
magnitude pruning of G and D jointly (sparsity up to 98.8%), late rewinding to step 10.
Paper: dense FID 37.71; winning tickets up to 83.2% sparsity. Without Inception weights
the headline is FID-cifar10 on jaxgen's classifier (not comparable with the paper's).
"""

from jaxgen import config_base


def get_config():
  config = config_base.kalibhat_dcgan_config(
      "tfds:cifar10", num_steps=100_000)  # 200 epochs of 50k images
  config_base.lottery(config, rounds=20, scope="both", method="imp", num_steps=None)
  config.pruning.metric = ""       # '' = FID (Inception if eval.inception_weights is set)
  return config
