"""StyleGAN2 (Karras et al. 2020) on Fashion-MNIST at 32x32, small enough for CPU.

Width 32 at every resolution, z = w = 64, 2 mapping layers, batch 32, with the
stylegan2-ada-pytorch 'auto' settings (config_base.stylegan2_config).

    python -m jaxgen.main --config configs/stylegan2_fashion_mnist.py

Last measured (experiments/zoo/train_zoo.py --only stylegan2_fashion_mnist, seed 0): after
all 2000 steps FID-fashion_mnist 4.11, KID 0.221, precision 0.79, recall 0.085 (2000
samples); 26.5 min wall in three resumed segments at load 3-5 on 2 cores (about 1.4
steps/s once compiled).
"""

from jaxgen.config_base import stylegan2_config


def get_config():
  config = stylegan2_config("fashion_mnist", 32, width=32, latent_dim=64, batch_size=32,
                            num_steps=2000)
  config.train.sample_every = 500
  return config
