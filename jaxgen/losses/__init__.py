"""GAN objectives and regularisers, looked up by name from `config.loss`."""

from jaxgen.losses.adversarial import LOSSES, GANLoss, get_loss
from jaxgen.losses.penalties import PENALTIES, get_penalty

__all__ = ["LOSSES", "GANLoss", "get_loss", "PENALTIES", "get_penalty"]
