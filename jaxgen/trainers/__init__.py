"""Training algorithms (GAN now; VAE, AE and flows plug in the same way), by `config.trainer`."""

from jaxgen.trainers.base import TRAINERS, Trainer, build_trainer
from jaxgen.trainers import gan  # noqa: F401  (registration side effect)

__all__ = ["TRAINERS", "Trainer", "build_trainer"]
