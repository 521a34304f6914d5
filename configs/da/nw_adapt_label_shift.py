"""nw_adapt on Fashion-MNIST -> Fashion-MNIST-M under the NW paper's label shift
(dataset.label_shift = nw3 | nw5 | nw10: 3, 5 or 10 classes; default nw3), 16x16 RGB, CPU.

    python -m jaxgen.main --config configs/da/nw_adapt_label_shift.py --config.dataset.label_shift=nw5

Time and result: not measured at this schedule (2000 steps); see
experiments/domain_adaptation/README.md for the measured short runs.
"""

from jaxgen.config_base import domain_adaptation_config


def get_config():
  config = domain_adaptation_config("nw_adapt", "fashion_mnist", "fashion_mnist_m", num_steps=2000,
                                    image_size=16)
  config.dataset.label_shift = "nw3"
  return config
