"""StyleGAN2 + ADA (Karras et al. 2020) on the 1437 training digits at 16x16: limited data.

Width 16 at every resolution, z = w = 32, 2 mapping layers, batch 32, the
stylegan2-ada-pytorch 'auto' settings (config_base.stylegan2_config), and adaptive
augmentation of everything D sees: the 'bgc' pipeline, target r_t = 0.6, p adjusted
every 4 steps (p is in the train state, so a resumed run continues it).

    python -m jaxgen.main --config configs/stylegan2_ada_digits.py

Last measured (experiments/zoo/train_zoo.py --only stylegan2_ada_digits: 2000 steps, 5.0
min wall at load ~5 on 2 cores, seed 0): FID-digits 3.14, KID 0.134, precision 0.37,
recall 0.08 (2000 samples); D never overfitted enough to raise p (r_t 0.18-0.62, p <= 0.003).
"""

from jaxgen.config_base import stylegan2_config


def get_config():
  config = stylegan2_config("digits", 16, width=16, latent_dim=32, batch_size=32,
                            num_steps=2000)
  config.train.update(ada_target=0.6, ada_interval=4, ada_kimg=100, ada_pipeline="bgc",
                      sample_every=500)
  return config
