"""CMSS (curriculum manager + DANN alignment; target unlabelled, used in training) on
{Fashion-MNIST, Fashion-MNIST-M, rotated 45}, held out Fashion-MNIST-M; 16x16 RGB, 10000
examples per domain, 2000 steps, CPU.

    python -m jaxgen.main --config configs/da_cmss_fashion_mix.py --workdir runs/da/cmss_fashion_mix

Baselines on the same sources: --config.trainer=da_source_only | dann. Source-validation accuracy
selects the state (best/), target accuracy is reported (eval every 200 steps).
Time and result: not measured at this schedule; see the multi-source section of
experiments/domain_adaptation/README.md for the measured runs.
"""

from jaxgen.config_base import multi_source_config


def get_config():
  return multi_source_config(
      "cmss", "fashion_mix", "fashion_mnist_m", num_steps=2000, image_size=16)
