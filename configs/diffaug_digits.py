"""DCGAN with DiffAugment (Zhao et al. 2020) on the 1437 training digits at 16x16.

With so few images D memorises the training set; DiffAugment applies the same random
translation and cutout (and colour jitter) to every batch D sees, real or generated, so
G still gets useful gradients.

    python -m jaxgen.main --config configs/diffaug_digits.py
"""

from jaxgen.config_base import base_config


def get_config():
  config = base_config()
  config.train.diffaug = "color,translation,cutout"
  config.train.num_steps = 4000
  return config
