"""IAAT of the small CNN on Fashion-MNIST, base eps 0.1 on [0, 1].

    python -m jaxgen.main --config configs/iaat_fashion_mnist.py --workdir runs/iaat_fashion_mnist

CNN (3x3 convs of 32 and 64 channels with max pooling, Dense 128), Adam 1e-3, batch 128,
1500 steps (3.2 epochs); attack.eps 0.2 on [-1, 1]; robust accuracy (PGD-20 / PGD-100) from
eval_metrics at the end (python -m jaxgen.evaluate). Measured (experiments/robustness,
2000 test images, PGD at eps 0.2, 1 restart, seeds 0-2): clean 0.847 +- 0.011, PGD-100
0.667 +- 0.004 (PGD-AT: 0.813 / 0.688); 24 min of training alone on 2 cores (3 PGD-10
attacks per step after the warm-up epoch).
"""

from jaxgen.config_base import fashion_mnist_cnn_classifier


def get_config():
  config = fashion_mnist_cnn_classifier("iaat")
  config.adv.warmup_epochs = 1      # of 60k examples = 469 steps (paper: 10 of 110 epochs)
  config.adv.gamma = 0.0475         # the paper's gamma / eps = 1.9 / 8, at eps 0.2
  return config
