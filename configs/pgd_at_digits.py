"""Madry PGD adversarial training of the digits MLP (configs/classifier_digits.py's net).

    python -m jaxgen.main --config configs/pgd_at_digits.py --workdir runs/pgd_at_digits

Every batch is replaced by PGD-10 examples at eps 0.4 on [-1, 1] (0.2 on [0, 1]), step
max(2 eps / 10, 4/255), random start. Measured (experiments/robustness/run_table.py, seeds
0, 1, 2; 360 test digits): clean 0.975 +- 0.003, PGD-20 0.542 +- 0.013, PGD-100
0.544 +- 0.017; 51-58 s wall per run on the loaded 2-core machine.
"""

from jaxgen.config_base import digits_mlp_classifier


def get_config():
  config = digits_mlp_classifier("pgd")
  return config
