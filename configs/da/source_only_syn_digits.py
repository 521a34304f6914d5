"""da_source_only on SynDigits (font-rendered) -> scikit-learn's handwritten digits, 16x16 RGB, CPU.

    python -m jaxgen.main --config configs/da/source_only_syn_digits.py --workdir runs/da/source_only_syn_digits

Target accuracy and source-validation accuracy (model selection, best/) are evaluated
every 200 steps. Time and result: not measured at this schedule (2000 steps); see
experiments/domain_adaptation/README.md.
Measured at 600 steps (experiments/domain_adaptation/run.py --task digits, seed 0, 412 s
wall on the loaded 2-core machine): 39.2% target, 83.7% source-validation accuracy.
"""

from jaxgen.config_base import domain_adaptation_config


def get_config():
  config = domain_adaptation_config("da_source_only", "syn_digits", "digits", num_steps=2000, image_size=16)
  return config
