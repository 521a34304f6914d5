"""w_align on Fashion-MNIST -> Fashion-MNIST-M under the NW paper's label shift
(dataset.label_shift = nw3 | nw5 | nw10: 3, 5 or 10 classes; default nw3), 16x16 RGB, CPU.

    python -m jaxgen.main --config configs/da/w_align_label_shift.py --config.dataset.label_shift=nw5

Target accuracy (source-validation selection) and source-validation accuracy are evaluated
every 200 steps; best/ keeps the selected state. Not measured at this schedule (2000 steps).
At 600 steps (experiments/domain_adaptation/run.py --task nw3|nw5|nw10, seeds 0-2, n = 3):
nw3 28.6 ± 1.5%, nw5 23.9 ± 0.3%, nw10 19.4 ± 1.2%; see
experiments/domain_adaptation/README.md.
"""

from jaxgen.config_base import domain_adaptation_config


def get_config():
  config = domain_adaptation_config("w_align", "fashion_mnist", "fashion_mnist_m", num_steps=2000,
                                    image_size=16)
  config.dataset.label_shift = "nw3"
  return config
