"""Entropic GAN (two potentials D1, D2, squared-L2 cost, lambda 0.1) on a 3-Gaussian 2-D mixture.

The testbed for the sample-likelihood surrogate: the data density is known in closed
form, so `experiments/entropic_gan/likelihood_2d.py` compares the surrogate with it
(Spearman rank correlation). MLP G and critics (width 128, depth 3), Adam 2e-4 (0.5, 0.99),
5 critic steps, batch 256.

    python -m jaxgen.main --config configs/entropic_gaussians2d.py
    python -m jaxgen.evaluate --workdir runs/entropic_gaussians2d   # entropic_log_likelihood

Last measured (2000 steps, seeds 0-2): 1.5-2.5 min wall each on the shared 2 cores; the
surrogate's Spearman with the true log-density is 0.919 ± 0.016 (0.579 ± 0.042 untrained),
experiments/entropic_gan/.
"""

from jaxgen import config_base


def get_config():
  config = config_base.mlp_gan_config("mixture")
  config.trainer = "entropic_gan"
  config.dataset.means = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.0]]
  config.dataset.stds = 0.5
  config.dataset.weights = [0.5, 0.3, 0.2]
  config.entropic = config_base.entropic(lam=0.1)
  config.entropic.cost = "l2"
  config.entropic.cost_scale = "none"
  config.optim.g = config_base.optimizer(lr=2e-4, b1=0.5, b2=0.99)
  config.optim.d = config_base.optimizer(lr=2e-4, b1=0.5, b2=0.99)
  config.train.n_critic = 5
  config.train.num_steps = 2000
  config.train.checkpoint_every = 2000
  config.eval.num_samples = 1000
  return config
