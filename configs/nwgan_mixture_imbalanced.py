"""Normalized-Wasserstein GAN on the imbalanced 3x3 grid (weights proportional to 9, ..., 1).

The NW paper's 2-D setting: 9 linear generators 2->64->64->64->2 on z ~ N(0, 0.1^2),
critic 2->128->128->1 LeakyReLU(0.2), WGAN weight clipping 0.01, RMSprop 5e-5 for G and D,
1e-2 for the proportions, 10 critic steps, batch 1024. Same data as
configs/gan_mixture_imbalanced.py (which drops 4-5 of the 9 modes).

    python -m jaxgen.main --config configs/nwgan_mixture_imbalanced.py
    python experiments/normalized_wasserstein/proportions.py --workdir runs/nwgan_mixture_imbalanced

Last measured (seed 0, 2026-12-02): 10k generator steps with these settings (about 6 min
per 2500 steps, one other job on the 2 cores) do not converge: by step 2500 pi collapses
onto one component (0.993) that draws a broad Gaussian over the grid, max proportion
error 0.15, 2% high-quality samples. The experiment's faster settings (RMSprop G 2e-3,
D 5e-4, pi 1e-3, 5 critic steps, batch 512, 2000 steps) recover every proportion within
0.016 and cover 9/9 modes, where a WGAN of that budget covers 5/9:
experiments/normalized_wasserstein/README.md.
"""

from jaxgen import config_base


def get_config():
  config = config_base.mlp_gan_config("mixture")
  config.trainer = "nwgan"
  config.dataset.means = [[x, y] for x in (-2.0, 0.0, 2.0) for y in (-2.0, 0.0, 2.0)]
  config.dataset.stds = 0.05
  config.dataset.weights = [float(9 - i) for i in range(9)]
  config.model.name = "linear_mlp"
  config.model.latent_dim = 2
  config.model.width = 128
  config.model.hidden_sizes = (64, 64, 64)
  config.nwgan = config_base.nwgan(num_components=9)
  config.nwgan.latent_std = 0.1
  config.loss.name = "wgan"
  config.loss.clip_d_weights = 0.01
  config.optim.g = config_base.optimizer(lr=5e-5, name="rmsprop")
  config.optim.d = config_base.optimizer(lr=5e-5, name="rmsprop")
  config.optim.pi = config_base.optimizer(lr=1e-2, name="rmsprop")
  config.train.batch_size = 1024
  config.train.n_critic = 10
  config.train.num_steps = 3000
  config.train.steps_per_call = 50
  config.train.log_every = 250
  config.train.sample_every = 1000
  config.train.checkpoint_every = 3000
  return config
