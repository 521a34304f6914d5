"""Training algorithms by `config.trainer`: gan, ae, vae (flows plug in the same way)."""

from jaxgen.trainers.base import TRAINERS, Trainer, build_trainer
from jaxgen.trainers import autoencoder, gan  # noqa: F401  (registration side effect)
from jaxgen.trainers import da_erm, dann, gta, nw_adapt  # noqa: F401  (domain adaptation)
from jaxgen.trainers import cmss, dmg  # noqa: F401  (multi-source DA / DG: issue 20)
from jaxgen.trainers import lsd_seg, seg_source_only  # noqa: F401  (LSD-seg: issue 20)
from jaxgen.trainers import entropic_gan, nwgan  # noqa: F401  (OT GANs: issue 13)
from jaxgen.trainers import classifier, invgan  # noqa: F401  (PGD-AT, IAAT; InvGAN)
from jaxgen.trainers import flow  # noqa: F401  (normalizing flows)
from jaxgen.trainers import stylegan2  # noqa: F401  (issue 17)

__all__ = ["TRAINERS", "Trainer", "build_trainer"]
