"""The contract between a training algorithm and the generic loop in `jaxgen.train`."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import ml_collections

from jaxgen.data import DataSpec
from jaxgen.registry import Registry

State = Any  # an immutable pytree
Batch = dict[str, jax.Array]
Metrics = dict[str, jax.Array]


class Trainer(NamedTuple):
  """Pure functions that define one algorithm; the loop owns all I/O.

  init(key) -> state
  train_step(state, batch) -> (state, metrics): batch arrays have a leading axis of
      length `batches_per_step` (e.g. one real batch per critic step).
  sample(state, noise) -> examples, in evaluation mode, for sample grids and metrics.
  noise(key, n) -> the latent input that `sample` takes.
  eval_metrics(state, batch, key) -> metrics of the model on held-out data (e.g. the
      ELBO and bits/dim of a VAE), or None when the model has no such metric.
  """
  init: Callable[[jax.Array], State]
  train_step: Callable[[State, Batch], tuple[State, Metrics]]
  sample: Callable[[State, jax.Array], jax.Array]
  noise: Callable[[jax.Array, int], jax.Array]
  batches_per_step: int
  eval_metrics: Callable[[State, Batch, jax.Array], Metrics] | None = None


Builder = Callable[[ml_collections.ConfigDict, DataSpec], Trainer]
TRAINERS: Registry[Builder] = Registry("trainer")


def build_trainer(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """The trainer named by `config.trainer`, built for the whole config and data spec."""
  return TRAINERS.get(config.trainer)(config, spec)
