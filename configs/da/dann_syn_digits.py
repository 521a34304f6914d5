"""dann on SynDigits (font-rendered) -> scikit-learn's handwritten digits, 16x16 RGB, CPU.

    python -m jaxgen.main --config configs/da/dann_syn_digits.py --workdir runs/da/dann_syn_digits

Target accuracy and source-validation accuracy (model selection, best/) are evaluated
every 200 steps. Time and result: not measured at this schedule (2000 steps); see
experiments/domain_adaptation/README.md.
Measured at 600 steps (experiments/domain_adaptation/run.py --task digits, seed 0, 292 s
wall): collapsed to chance (6.4% target at the selected step); Ganin's schedule ramps
lambda too fast for so short a run.
"""

from jaxgen.config_base import domain_adaptation_config


def get_config():
  config = domain_adaptation_config("dann", "syn_digits", "digits", num_steps=2000, image_size=16)
  return config
