"""The model registry: `name -> builder(model_config, data_spec) -> GANModels`."""

from __future__ import annotations

from typing import Callable, NamedTuple

import flax.linen as nn
import jax.numpy as jnp
import ml_collections

from jaxgen import config_base
from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.registry import Registry


class GANModels(NamedTuple):
  """A generator `G(z, y, train) -> x` and a discriminator `D(x, y, train) -> logits[B]`."""
  generator: nn.Module
  discriminator: nn.Module
  latent_dim: int


Builder = Callable[[ml_collections.ConfigDict, DataSpec], GANModels]
MODELS: Registry[Builder] = Registry("model.name")
COMPUTE_DTYPES = ("float32", "bfloat16")
# Models whose generator and discriminator take a compute `dtype` (train.compute_dtype).
BFLOAT16_MODELS = ("biggan", "dcgan", "resnet")


def build_gan(model_config: ml_collections.ConfigDict, spec: DataSpec,
              compute_dtype: str = "float32") -> GANModels:
  """Builds the generator and discriminator named by `model_config.name` for `spec`
  (fields it lacks take their config_base defaults).

  `compute_dtype` (train.compute_dtype) is the dtype of activations and matmuls of
  models with a `dtype` field; parameters stay float32.
  """
  models = MODELS.get(model_config.name)(config_base.complete_block("model", model_config),
                                         spec)
  if compute_dtype == "float32":
    return models
  if compute_dtype not in COMPUTE_DTYPES:
    raise ConfigError(f"unknown train.compute_dtype {compute_dtype!r}; choose one of: "
                      f"{', '.join(COMPUTE_DTYPES)}")
  if model_config.name not in BFLOAT16_MODELS:
    raise ConfigError(f"train.compute_dtype={compute_dtype} is supported by model.name "
                      f"{', '.join(BFLOAT16_MODELS)} only, not {model_config.name!r}")
  dtype = jnp.dtype(compute_dtype)
  return models._replace(generator=models.generator.clone(dtype=dtype),
                         discriminator=models.discriminator.clone(dtype=dtype))
