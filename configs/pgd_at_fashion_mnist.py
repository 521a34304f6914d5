"""Madry PGD-AT of the small CNN on Fashion-MNIST at eps 0.1 on [0, 1].

    python -m jaxgen.main --config configs/pgd_at_fashion_mnist.py --workdir runs/pgd_at_fashion_mnist

CNN (3x3 convs of 32 and 64 channels with max pooling, Dense 128), Adam 1e-3, batch 128,
1500 steps (3.2 epochs); attack.eps 0.2 on [-1, 1]; robust accuracy (PGD-20 / PGD-100) from
eval_metrics at the end (python -m jaxgen.evaluate). The train step runs at 2.66 steps/s
on a quiet 2-core machine (benchmarks/bench_pgd_at.py: 1.10x PyTorch), about 9.5 min for
1500 steps (10-14 min next to other jobs). Measured (experiments/robustness, 2000 test
images, PGD at eps 0.2, 1 restart): clean 0.813 ± 0.008, PGD-100 0.688 ± 0.003 (n = 3).
"""

from jaxgen.config_base import fashion_mnist_cnn_classifier


def get_config():
  config = fashion_mnist_cnn_classifier("pgd")
  return config
