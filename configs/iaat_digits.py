"""IAAT (Balaji et al. 2019) on the digits MLP: one eps per training example.

    python -m jaxgen.main --config configs/iaat_digits.py --workdir runs/iaat_digits

10 warm-up epochs at eps 0.4 on [-1, 1] (0 for examples wrong clean), then per visit PGD-10
at eps_i + gamma and eps_i decides grow / keep / shrink, smoothed 0.1 new + 0.9 old;
training on PGD-10 at each eps_i. gamma 0.095 = the paper's gamma / eps (1.9 / 8) at 0.4.
Measured (experiments/robustness/run_table.py, seeds 0, 1, 2; 360 test digits, evaluated at
eps 0.4): clean 0.978 +- 0.005, PGD-20 0.510 +- 0.010, PGD-100 0.506 +- 0.013; final eps
mean 0.38 (seed 0; 2.4% at 0, 90th percentile 0.57); 66-85 s wall per run.
"""

from jaxgen.config_base import digits_mlp_classifier


def get_config():
  config = digits_mlp_classifier("iaat")
  config.adv.warmup_epochs = 10         # the paper's 10 (of its 110)
  config.adv.gamma = 0.095              # the paper's gamma / eps = 1.9 / 8, at eps 0.4
  return config
