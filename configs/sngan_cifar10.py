"""SNGAN (Miyato et al. 2018): ResNet G and spectrally normalised ResNet D on CIFAR-10.

The paper's CIFAR-10 ResNet setting: hinge loss, 5 D steps per G step, Adam 2e-4 with
betas (0, 0.9), batch 64, 50k G steps with linear decay. Needs prepared TFDS data and
an accelerator:

    python -m jaxgen.main --config configs/sngan_cifar10.py --config.dataset.data_dir=DIR

Last measured (experiments/zoo/results.md, `python experiments/zoo/train_zoo.py`):
300 generator steps (width 32, on Fashion-MNIST) in 14.1 min on 2 shared CPU cores;
on 2000 samples, FID-fashion_mnist 17.9, KID 0.648, IS 1.73, precision 0.852, recall
0.0165 (jaxgen's fashion_mnist classifier features, not Inception).
"""

from jaxgen.config_base import base_config, optimizer


def get_config():
  config = base_config()
  config.dataset.name = "tfds:cifar10"
  config.dataset.image_size = 32
  config.model.name = "resnet"
  config.model.latent_dim = 128
  config.model.width = 256    # G channels (the paper's CIFAR ResNet)
  config.model.d_width = 128  # D channels
  config.model.g_norm = "batch"
  config.model.d_norm = "spectral"
  config.model.attention_res = 0
  config.loss.name = "hinge"
  for net in ("g", "d"):
    config.optim[net] = optimizer(lr=2e-4, b1=0.0, b2=0.9)
    config.optim[net].schedule = "linear"
  config.train.n_critic = 5
  config.train.num_steps = 50000
  config.train.sample_every = 2500
  config.train.checkpoint_every = 5000
  return config
