"""Lottery tickets of the paper's DCGAN on CelebA 32x32 (Kalibhat et al. 2021): for an accelerator.

    python -m jaxgen.main --config configs/lottery/imp_dcgan_celeba.py \
        --config.dataset.data_dir=~/tensorflow_datasets \
        --config.eval.inception_weights=<FID Inception .npz> --workdir runs/lottery/imp_dcgan_celeba

configs/lottery/imp_dcgan_cifar10.py's setting (h = 128, latent 32, NS loss, Adam 2e-4,
batch 100, 200 epochs per round = 325,540 steps of CelebA's 162,770 training images,
20 rounds, rewinding to step 10) on center-cropped CelebA faces resized to 32x32, the
resolution of the paper's DCGAN (three upsamplings from 4x4).
"""

from jaxgen import config_base


def get_config():
  config = config_base.kalibhat_dcgan_config(
      "tfds:celeb_a", num_steps=325_540)  # 200 epochs of 162,770 images
  config.dataset.center_crop = True
  config.dataset.in_memory = False  # stream: the 218x178 originals are ~19 GB as uint8
  config_base.lottery(config, rounds=20, scope="both", method="imp", num_steps=None)
  config.pruning.metric = ""       # '' = FID (Inception if eval.inception_weights is set)
  return config
