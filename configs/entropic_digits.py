"""Entropic GAN on the embedded 16x16 digits: DCGAN G, two DCGAN critics (layer norm).

The paper's image setting at CPU scale: L1 cost on [0, 1] pixels, lambda 5, 5 critic
steps, Adam 2e-4 (0.5, 0.99), batch 64. `jaxgen.evaluate` reports the held-out
`entropic_log_likelihood`; experiments/entropic_gan/ranking.py ranks held-out digits,
Fashion-MNIST and noise by it.

    python -m jaxgen.main --config configs/entropic_digits.py

Last measured (600 steps, seeds 0-2): 129-148 s wall each on the loaded 2-core machine;
mean surrogate of 300 held-out digits -25.96 +- 0.02 > Fashion-MNIST -29.87 +- 0.05 >
noise -37.48 +- 0.15 (mean +- std over the 3 seeds, ddof=1).
"""

from jaxgen import config_base


def get_config():
  config = config_base.base_config()
  config.trainer = "entropic_gan"
  config.model.width = 32
  config.model.d_norm = "layer"
  config.entropic = config_base.entropic(lam=5.0)
  config.optim.g = config_base.optimizer(lr=2e-4, b1=0.5, b2=0.99)
  config.optim.d = config_base.optimizer(lr=2e-4, b1=0.5, b2=0.99)
  config.train.n_critic = 5
  config.train.num_steps = 600
  config.train.checkpoint_every = 600
  config.eval.feature_net = "none"
  config.eval.num_samples = 500
  return config
