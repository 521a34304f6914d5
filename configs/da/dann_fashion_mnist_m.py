"""dann on Fashion-MNIST -> Fashion-MNIST-M (|x - photo crop|), 16x16 RGB, CPU.

    python -m jaxgen.main --config configs/da/dann_fashion_mnist_m.py --workdir runs/da/dann_fashion_mnist_m

Target accuracy and source-validation accuracy (model selection, best/) are evaluated
every 200 steps. Time and result: not measured at this schedule (2000 steps); see
experiments/domain_adaptation/README.md.
"""

from jaxgen.config_base import domain_adaptation_config


def get_config():
  config = domain_adaptation_config("dann", "fashion_mnist", "fashion_mnist_m", num_steps=2000, image_size=16)
  return config
