"""Lottery tickets of the paper's linear autoencoder on the digits: 256-128-64-12-3, mirrored.

    python -m jaxgen.main --config configs/lottery/imp_linear_ae_digits.py \
        --workdir runs/lottery/imp_linear_ae_digits

Kalibhat et al.'s MNIST AE is 784-128-64-12-3 and back (ReLU between layers, tanh
output; 219,891 params): `model.hidden_sizes` on the MLP model. On the 16x16 digits the
input is 256 (84,195 params); 784 with --config.dataset.image_size=28 and
--config.dataset.name=mnist (or fashion_mnist; the MLP takes any size). MSE loss, Adam
1e-3, 1000 steps per round, 5 rounds of 20% global magnitude pruning of both nets,
rewinding to step 10. Headline metric: held-out per-pixel reconstruction MSE on the
[-1, 1] scale.
"""

from jaxgen import config_base
from jaxgen.trainers.autoencoder import loss_config


def get_config():
  config = config_base.base_config()
  config.trainer = "ae"
  config.model.name = "mlp"
  config.model.hidden_sizes = (128, 64, 12)  # the encoder's; the decoder mirrors them
  config.model.latent_dim = 3
  config.model.output_activation = "tanh"
  config.loss = loss_config("mse")
  config.optim.g = config_base.optimizer(lr=1e-3, b1=0.9)    # the decoder
  config.optim.enc = config_base.optimizer(lr=1e-3, b1=0.9)  # the encoder
  config.eval.feature_net = "none"  # only the held-out reconstruction metrics
  config_base.lottery(config, rounds=5, scope="both", method="imp")
  config.pruning.metric = "mse"
  return config
