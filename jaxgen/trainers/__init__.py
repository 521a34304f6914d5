"""Training algorithms by `config.trainer`: gan, ae, vae (flows plug in the same way)."""

from jaxgen.trainers.base import TRAINERS, Trainer, build_trainer
from jaxgen.trainers import autoencoder, gan  # noqa: F401  (registration side effect)

__all__ = ["TRAINERS", "Trainer", "build_trainer"]
