"""DCGAN on CIFAR-10 through TensorFlow Datasets (needs the prepared TFDS data).

    python -m jaxgen.main --config configs/dcgan_cifar10.py --config.dataset.data_dir=~/tensorflow_datasets

The paper setting of the lottery-ticket work (h=128); meant for an accelerator.
"""

from jaxgen.config_base import base_config


def get_config():
  config = base_config()
  config.dataset.name = "tfds:cifar10"
  config.dataset.image_size = 32
  config.model.width = 128
  config.model.latent_dim = 100
  config.train.batch_size = 128
  config.train.num_steps = 50000
  config.train.sample_every = 2500
  config.train.checkpoint_every = 5000
  return config
