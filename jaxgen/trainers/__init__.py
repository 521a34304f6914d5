"""Training algorithms by `config.trainer`: gan, ae, vae (flows plug in the same way)."""

from jaxgen.trainers.base import TRAINERS, Trainer, build_trainer
from jaxgen.trainers import autoencoder, gan  # noqa: F401  (registration side effect)
from jaxgen.trainers import da_erm, dann, gta, nw_adapt  # noqa: F401  (domain adaptation)
from jaxgen.trainers import entropic_gan, nwgan  # noqa: F401  (OT GANs: issue 13)
from jaxgen.trainers import classifier, invgan  # noqa: F401  (PGD-AT, IAAT; InvGAN)
from jaxgen.trainers import flow  # noqa: F401  (normalizing flows)

__all__ = ["TRAINERS", "Trainer", "build_trainer"]
