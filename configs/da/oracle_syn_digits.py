"""da_oracle on SynDigits (font-rendered) -> scikit-learn's handwritten digits, 16x16 RGB, CPU.

    python -m jaxgen.main --config configs/da/oracle_syn_digits.py --workdir runs/da/oracle_syn_digits

Target accuracy and source-validation accuracy (model selection, best/) are evaluated
every 200 steps. Time and result: not measured at this schedule (2000 steps); see
experiments/domain_adaptation/README.md.
"""

from jaxgen.config_base import domain_adaptation_config


def get_config():
  config = domain_adaptation_config("da_oracle", "syn_digits", "digits", num_steps=2000, image_size=16)
  return config
