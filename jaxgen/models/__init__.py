"""Generator/discriminator families, looked up by `config.model.name`.

Importing this package registers every model module listed below.
"""

from jaxgen.models.registry import MODELS, GANModels, build_gan
from jaxgen.models import dcgan, mlp  # noqa: F401  (registration side effect)
from jaxgen.models import resnet  # noqa: F401  (SNGAN / SAGAN)
from jaxgen.models import biggan  # noqa: F401
from jaxgen.models import stylegan2  # noqa: F401  (issue 17)
from jaxgen.models import mixture  # noqa: F401  (NW-GAN: vmapped K generators, linear_mlp)
from jaxgen.models.encoders import ENCODERS, build_encoder  # noqa: F401  (AE/VAE encoders)

__all__ = ["MODELS", "GANModels", "build_gan"]
