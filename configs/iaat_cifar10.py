"""IAAT on CIFAR-10 with the paper's settings, for accelerators (WRN-32-10, 110 epochs).

    python -m jaxgen.main --config configs/iaat_cifar10.py --workdir runs/iaat_cifar10
    python -m jaxgen.evaluate --workdir runs/iaat_cifar10     # clean, PGD-20, PGD-100

Balaji et al. (2019) / the authors' train_adaptive.json, on jaxgen's [-1, 1] scale (radii
doubled): eps 8/255 -> 16/255, gamma 1.9/255 -> 3.8/255, PGD-10 with step max(eps_i / 5,
2/255 -> 4/255), warm-up 10 epochs, smoothing beta 0.1; WRN-32-10, SGD 0.1 momentum 0.9,
weight decay 5e-4, batch 256, reflect-pad-4 crop + flip. Differences: cosine decay instead
of the paper's steps at epochs 70/90/100; needs `tfds:cifar10` prepared (in memory, so
batches carry the example 'index'). Madry PGD-AT: --config.adv.method=pgd. Not run here
(no accelerator in this session).
"""

from jaxgen.config_base import classifier, classifier_config, optimizer

EPOCHS = 110
TRAIN_EXAMPLES = 50_000


def get_config():
  config = classifier_config("tfds:cifar10", image_size=0, method="iaat")
  config.classifier = classifier("wrn")
  config.classifier.depth = 32
  config.classifier.widen = 10
  config.classifier.augment = "crop,flip"
  config.classifier.weight_decay = 5e-4
  config.optim.c = optimizer(lr=0.1, name="sgd")
  config.optim.c.momentum = 0.9
  config.optim.c.schedule = "cosine"
  config.train.batch_size = 256
  config.train.num_steps = EPOCHS * TRAIN_EXAMPLES // 256 // 100 * 100   # 21400
  config.train.steps_per_call = 100
  config.train.log_every = 500
  config.train.sample_every = 5000
  config.train.checkpoint_every = 2000
  config.attack.eps = 16 / 255
  config.attack.steps = 10
  config.attack.min_step_size = 4 / 255
  config.attack.eval_restarts = 5
  config.adv.warmup_epochs = 10
  config.adv.gamma = 3.8 / 255
  config.adv.beta = 0.1
  config.eval.every = 5000
  config.eval.batch_size = 500
  return config
