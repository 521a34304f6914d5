"""IAAT (Balaji et al. 2019) on the digits MLP: one eps per training example.

    python -m jaxgen.main --config configs/iaat_digits.py --workdir runs/iaat_digits

10 warm-up epochs at eps 0.4 on [-1, 1] (0 for examples wrong clean), then per visit PGD-10
at eps_i + gamma and eps_i decides grow / keep / shrink, smoothed 0.1 new + 0.9 old;
training on PGD-10 at each eps_i. gamma 0.095 = the paper's gamma / eps (1.9 / 8) at 0.4.
Measured (experiments/robustness/run_table.py, seeds 0, 1, 2; 360 test digits, evaluated at
eps 0.4): clean 0.978 +- 0.005, PGD-20 0.510 +- 0.010, PGD-100 0.506 +- 0.013; final eps
mean 0.38 (seed 0; 2.4% at 0, 90th percentile 0.57); 66-85 s wall per run.
"""

from jaxgen.config_base import classifier, classifier_config


def get_config():
  config = classifier_config("digits", image_size=0, method="iaat")
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
  config.adv.warmup_epochs = 10         # the paper's 10 (of its 110)
  config.adv.gamma = 0.095              # the paper's gamma / eps = 1.9 / 8, at eps 0.4
  return config
