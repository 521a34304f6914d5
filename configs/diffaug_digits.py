"""DCGAN with DiffAugment (Zhao et al. 2020) on the 1437 training digits at 16x16.

With so few images D memorises the training set; DiffAugment applies the same random
translation and cutout (and colour jitter) to every batch D sees, real or generated, so
G still gets useful gradients.

    python -m jaxgen.main --config configs/diffaug_digits.py

Last measured (experiments/zoo/results.md, `python experiments/zoo/train_zoo.py`):
4000 generator steps in 2.2 min on 2 shared CPU cores; on 2000 samples,
FID-digits 0.366, KID 0.00413, IS 7.07, precision 0.414, recall 0.752 (jaxgen's
digits classifier features, not Inception).
"""

from jaxgen.config_base import base_config


def get_config():
  config = base_config()
  config.train.diffaug = "color,translation,cutout"
  config.train.num_steps = 4000
  return config
