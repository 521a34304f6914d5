"""StyleGAN2 + ADA (Karras et al. 2020) on the 1437 training digits at 16x16: limited data.

Width 16 at every resolution, z = w = 32, 2 mapping layers, batch 32, the
stylegan2-ada-pytorch 'auto' settings (config_base.stylegan2_config), and adaptive
augmentation of everything D sees: the 'bgc' pipeline, target r_t = 0.6, p adjusted
every 4 steps (p is in the train state, so a resumed run continues it).

    python -m jaxgen.main --config configs/stylegan2_ada_digits.py

Not trained yet (no CPU time or FID measured); its step is a little cheaper than
configs/stylegan2_fashion_mnist.py's (16x16, width 16) plus the ADA ops.
"""

from jaxgen.config_base import stylegan2_config


def get_config():
  config = stylegan2_config("digits", 16, width=16, latent_dim=32, batch_size=32,
                            num_steps=2000)
  config.train.update(ada_target=0.6, ada_interval=4, ada_kimg=100, ada_pipeline="bgc",
                      sample_every=500)
  return config
