"""Mixtures of K generators in one module (Normalized-Wasserstein GAN, Balaji et al. 2019).

`MixtureGenerator` applies one generator architecture with `nn.vmap` over K parameter
sets, so K components cost one batched call: latents [K, B, ...] -> samples [K, B, ...].
`linear_mlp` is the NW paper's 2-D model: linear generators (no activation), an MLP critic.
"""

from __future__ import annotations

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgen.data import DataSpec
from jaxgen.models.mlp import MLPDiscriminator
from jaxgen.models.registry import MODELS, GANModels


class MixtureGenerator(nn.Module):
  """K copies of `component` with their own parameters (and BatchNorm statistics).

  __call__(z [K, B, latent], y [B] or None) -> [K, B, *x_shape]; component k maps z[k].
  The parameter tree is the component's, with a leading axis of size K on every leaf.
  """
  component: nn.Module
  num_components: int

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    def apply(module, z, y):
      return module(z, y, train=train)

    batched = nn.vmap(apply, variable_axes={"params": 0, "batch_stats": 0},
                      split_rngs={"params": True}, in_axes=(0, None),
                      axis_size=self.num_components)
    return batched(self.component, z, y)


def select_components(samples: jax.Array, components: jax.Array) -> jax.Array:
  """samples [K, B, ...], components [B] ints -> [B, ...]: example b from component k_b."""
  return jnp.take_along_axis(
      samples, components.reshape((1, -1) + (1,) * (samples.ndim - 2)), axis=0)[0]


def torch_bias_init(fan_in: int):
  """PyTorch's nn.Linear bias init, U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
  bound = 1.0 / math.sqrt(fan_in)
  return lambda key, shape, dtype=jnp.float32: jax.random.uniform(
      key, shape, dtype, -bound, bound)


class LinearGenerator(nn.Module):
  """z -> x through Dense layers without activations (the NW paper's 2-D generator).

  reference_init: the NW reference code's init (Xavier-normal kernels, PyTorch's uniform
  biases), which starts each component at its own offset; flax's zero biases start them
  all at the origin.
  """
  output_shape: tuple[int, ...]
  sizes: Sequence[int] = (64, 64, 64)
  reference_init: bool = False

  @nn.compact
  def __call__(self, z: jax.Array, y: jax.Array | None = None,
               train: bool = True) -> jax.Array:
    x = z
    for size in tuple(self.sizes) + (math.prod(self.output_shape),):
      init = ({"kernel_init": nn.initializers.xavier_normal(),
               "bias_init": torch_bias_init(x.shape[-1])} if self.reference_init else {})
      x = nn.Dense(size, **init)(x)
    return x.reshape((z.shape[0],) + tuple(self.output_shape))


@MODELS.register("linear_mlp")
def build_linear_mlp(config: ml_collections.ConfigDict, spec: DataSpec) -> GANModels:
  """NW paper's MoG models: G = 2->64->64->64->2 linear, D = 2->128->128->1 LeakyReLU(0.2).

  G's widths are `model.hidden_sizes` (default (64, 64, 64)); D has 2 LeakyReLU layers
  of `model.width` units; `model.reference_init` gives G the reference code's init.
  """
  sizes = tuple(config.hidden_sizes) or (64, 64, 64)
  return GANModels(
      generator=LinearGenerator(output_shape=tuple(spec.shape), sizes=sizes,
                                reference_init=config.reference_init),
      discriminator=MLPDiscriminator(hidden=config.width, depth=2),
      latent_dim=config.latent_dim,
  )
