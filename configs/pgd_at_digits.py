"""Madry PGD adversarial training of the digits MLP (configs/classifier_digits.py's net).

    python -m jaxgen.main --config configs/pgd_at_digits.py --workdir runs/pgd_at_digits

Every batch is replaced by PGD-10 examples at eps 0.4 on [-1, 1] (0.2 on [0, 1]), step
max(2 eps / 10, 4/255), random start. Measured (experiments/robustness/run_table.py, seeds
0, 1, 2; 360 test digits): clean 0.975 +- 0.003, PGD-20 0.542 +- 0.013, PGD-100
0.544 +- 0.017; 51-58 s wall per run on the loaded 2-core machine.
"""

from jaxgen.config_base import classifier, classifier_config


def get_config():
  config = classifier_config("digits", image_size=0, method="pgd")
  config.classifier = classifier("mlp")  # 64 pixels -> 128 -> 128 -> 10
  config.classifier.width = 128
  config.optim.c.lr = 1e-3
  config.train.batch_size = 64
  config.train.num_steps = 1500         # 67 epochs of the 1437 training digits
  config.train.steps_per_call = 50
  config.train.log_every = 100
  config.train.sample_every = 1500
  config.train.checkpoint_every = 1500
  config.attack.eps = 0.4               # 0.2 on [0, 1]
  config.attack.steps = 10
  config.attack.eval_restarts = 2
  return config
