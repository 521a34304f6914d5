"""DMG (per-domain feature masks; target unseen in training, evaluated with the mean
mask) on {Fashion-MNIST, Fashion-MNIST-M, rotated 45}, held out Fashion-MNIST-M; 16x16
RGB, 10000 examples per domain, 2000 steps, CPU.

    python -m jaxgen.main --config configs/da_dmg_fashion_mix.py --workdir runs/da/dmg_fashion_mix

Baselines on the same sources: --config.trainer=da_source_only. Source-validation accuracy
selects the state (best/), target accuracy is reported (eval every 200 steps).
Time and result: not measured at this schedule; see the multi-source section of
experiments/domain_adaptation/README.md for the measured runs.
"""

from jaxgen.config_base import multi_source_config


def get_config():
  return multi_source_config(
      "dmg", "fashion_mix", "fashion_mnist_m", num_steps=2000, image_size=16)
