"""DCGAN on scikit-learn digits upsampled to 32x32 (longer than the default demo).

    python -m jaxgen.main --config configs/dcgan_digits.py
"""

from jaxgen.config_base import base_config


def get_config():
  config = base_config()
  config.dataset.image_size = 32
  config.train.num_steps = 5000
  return config
