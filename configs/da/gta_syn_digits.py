"""gta on SynDigits (font-rendered) -> scikit-learn's handwritten digits, 16x16 RGB, CPU.

    python -m jaxgen.main --config configs/da/gta_syn_digits.py --workdir runs/da/gta_syn_digits

Target accuracy (source-validation selection) and source-validation accuracy are evaluated
every 200 steps; best/ keeps the selected state. Not measured at this schedule (2000 steps).
At 600 steps (experiments/domain_adaptation/run.py --task digits, seeds 0-2, n = 3): 44.9 ±
4.2% (source-only 42.0 ± 5.0%); see experiments/domain_adaptation/README.md.
"""

from jaxgen.config_base import domain_adaptation_config


def get_config():
  config = domain_adaptation_config("gta", "syn_digits", "digits", num_steps=2000, image_size=16)
  for net in config.optim:  # the paper's optimizer: Adam 5e-4, b1 0.8
    config.optim[net].update(lr=5e-4, b1=0.8)
  return config
