"""da_oracle on SynDigits (font-rendered) -> scikit-learn's handwritten digits, 16x16 RGB, CPU.

    python -m jaxgen.main --config configs/da/oracle_syn_digits.py --workdir runs/da/oracle_syn_digits

Target accuracy (source-validation selection) and source-validation accuracy are evaluated
every 200 steps; best/ keeps the selected state. Not measured at this schedule (2000 steps).
At 600 steps (experiments/domain_adaptation/run.py --task digits, seeds 0-2, n = 3): 97.7 ±
0.4% at the last step; see experiments/domain_adaptation/README.md.
"""

from jaxgen.config_base import domain_adaptation_config


def get_config():
  config = domain_adaptation_config("da_oracle", "syn_digits", "digits", num_steps=2000, image_size=16)
  return config
