"""StyleGAN2 + ADA on CIFAR-10 with the paper's settings (stylegan2-ada-pytorch
`--cfg=cifar --aug=ada`): configs/stylegan2_cifar10.py plus adaptive augmentation of
everything D sees with the 'bgc' pipeline, target r_t = 0.6, p adjusted every 4 steps
at a speed of 500k images from 0 to 1. Meant for an accelerator:

    python -m jaxgen.main --config configs/stylegan2_ada_cifar10.py --config.dataset.data_dir=~/tensorflow_datasets

Not measured here (needs the prepared TFDS data and an accelerator).
"""

from jaxgen.config_base import stylegan2_cifar10_config


def get_config():
  config = stylegan2_cifar10_config()
  config.train.update(ada_target=0.6, ada_interval=4, ada_kimg=500, ada_pipeline="bgc")
  return config
