"""CMSS (curriculum manager + DANN alignment; target unlabelled, used in training) on
rotated Fashion-MNIST (DomainBed RotatedMNIST angles 0-75), sources 0-60 degrees, held
out 75; 16x16 RGB, 10000 examples per domain, 2000 steps, CPU.

    python -m jaxgen.main --config configs/da_cmss_rotated.py --workdir runs/da/cmss_rotated

Baselines on the same sources: --config.trainer=da_source_only | dann. Source-validation accuracy
selects the state (best/), target accuracy is reported (eval every 200 steps).
Time and result: not measured at this schedule; see the multi-source section of
experiments/domain_adaptation/README.md for the measured runs.
Measured at 400 steps (experiments/domain_adaptation/multi_source.py, seeds 0-2):
CMSS 44.3 ± 4.4% target accuracy (DANN 49.6 ± 3.5, ERM 41.9 ± 3.0; n = 3), ~280 s
per run; the 60-degree source gets ~3x the uniform weight.
"""

from jaxgen.config_base import multi_source_config


def get_config():
  return multi_source_config(
      "cmss", "rotated", "fashion_mnist_rot75", num_steps=2000, image_size=16)
