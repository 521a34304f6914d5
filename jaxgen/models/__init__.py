"""Generator/discriminator families, looked up by `config.model.name`.

Importing this package registers every model module listed below.
"""

from jaxgen.models.registry import MODELS, GANModels, build_gan
from jaxgen.models import dcgan, mlp  # noqa: F401  (registration side effect)

__all__ = ["MODELS", "GANModels", "build_gan"]
