"""The model registry: `name -> builder(model_config, data_spec) -> GANModels`."""

from __future__ import annotations

from typing import Callable, NamedTuple

import flax.linen as nn
import ml_collections

from jaxgen.data import DataSpec
from jaxgen.registry import Registry


class GANModels(NamedTuple):
  """A generator `G(z, y, train) -> x` and a discriminator `D(x, y, train) -> logits[B]`."""
  generator: nn.Module
  discriminator: nn.Module
  latent_dim: int


Builder = Callable[[ml_collections.ConfigDict, DataSpec], GANModels]
MODELS: Registry[Builder] = Registry("model.name")


def build_gan(model_config: ml_collections.ConfigDict, spec: DataSpec) -> GANModels:
  """Builds the generator and discriminator named by `model_config.name` for `spec`."""
  return MODELS.get(model_config.name)(model_config, spec)
