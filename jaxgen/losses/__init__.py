"""GAN objectives and regularisers, looked up by name from `config.loss`."""

from jaxgen.losses.adversarial import LOSSES, GANLoss, get_loss
from jaxgen.losses.penalties import (PENALTIES, PENALTY_POINTS, get_penalty,
                                     penalty_labels)

__all__ = ["LOSSES", "GANLoss", "get_loss", "PENALTIES", "PENALTY_POINTS", "get_penalty",
           "penalty_labels"]
