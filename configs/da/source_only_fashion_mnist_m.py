"""da_source_only on Fashion-MNIST -> Fashion-MNIST-M (|x - photo crop|), 16x16 RGB, CPU.

    python -m jaxgen.main --config configs/da/source_only_fashion_mnist_m.py --workdir runs/da/source_only_fashion_mnist_m

Target accuracy (source-validation selection) and source-validation accuracy are evaluated
every 200 steps; best/ keeps the selected state. Not measured at this schedule (2000 steps).
At 600 steps (experiments/domain_adaptation/run.py --task fashion, seeds 0-2, n = 3): 21.9 ±
1.3%; see experiments/domain_adaptation/README.md.
"""

from jaxgen.config_base import domain_adaptation_config


def get_config():
  config = domain_adaptation_config("da_source_only", "fashion_mnist", "fashion_mnist_m", num_steps=2000, image_size=16)
  return config
