"""StyleGAN2 (Karras et al. 2020) on Fashion-MNIST at 32x32, small enough for CPU.

Width 32 at every resolution, z = w = 64, 2 mapping layers, batch 32, with the
stylegan2-ada-pytorch 'auto' settings (config_base.stylegan2_config).

    python -m jaxgen.main --config configs/stylegan2_fashion_mnist.py

Not trained to the end yet (no FID). CPU time: a 100-step run
(`--config.train.num_steps=100`) took 8.9 min wall, 2.5 min of CPU (user+sys, incl. a
~1-2 min compile) on the 2 shared cores at load average ~12.
"""

from jaxgen.config_base import stylegan2_config


def get_config():
  config = stylegan2_config("fashion_mnist", 32, width=32, latent_dim=64, batch_size=32,
                            num_steps=2000)
  config.train.sample_every = 500
  return config
