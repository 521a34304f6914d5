"""Optax optimizers and learning-rate schedules built from a config block.

A block looks like `ConfigDict(name='adam', lr=2e-4, b1=0.5, b2=0.999, schedule='constant')`;
the generator and the discriminator each get their own (`config.optim.g`, `config.optim.d`).
"""

from __future__ import annotations

import ml_collections
import optax

from jaxgen.pruning.optimizer import masked
from jaxgen.registry import Registry

SCHEDULES: Registry = Registry("optim.schedule")
OPTIMIZERS: Registry = Registry("optim.name")


@SCHEDULES.register("constant")
def _constant(lr: float, cfg: ml_collections.ConfigDict, total_steps: int):
  return optax.constant_schedule(lr)


@SCHEDULES.register("linear")
def _linear(lr: float, cfg: ml_collections.ConfigDict, total_steps: int):
  """Linear decay to zero over training (the BigGAN/SNGAN-style schedule)."""
  return optax.linear_schedule(lr, 0.0, max(total_steps, 1))


@SCHEDULES.register("cosine")
def _cosine(lr: float, cfg: ml_collections.ConfigDict, total_steps: int):
  return optax.warmup_cosine_decay_schedule(
      0.0, lr, cfg.get("warmup_steps", 0), max(total_steps, 1))


@OPTIMIZERS.register("adam")
def _adam(schedule, cfg: ml_collections.ConfigDict) -> optax.GradientTransformation:
  return optax.adam(schedule, b1=cfg.get("b1", 0.9), b2=cfg.get("b2", 0.999),
                    eps=cfg.get("eps", 1e-8))


@OPTIMIZERS.register("adamw")
def _adamw(schedule, cfg: ml_collections.ConfigDict) -> optax.GradientTransformation:
  return optax.adamw(schedule, b1=cfg.get("b1", 0.9), b2=cfg.get("b2", 0.999),
                     eps=cfg.get("eps", 1e-8), weight_decay=cfg.get("weight_decay", 1e-4))


@OPTIMIZERS.register("rmsprop")
def _rmsprop(schedule, cfg: ml_collections.ConfigDict) -> optax.GradientTransformation:
  return optax.rmsprop(schedule, decay=cfg.get("decay", 0.99), eps=cfg.get("eps", 1e-8))


@OPTIMIZERS.register("sgd")
def _sgd(schedule, cfg: ml_collections.ConfigDict) -> optax.GradientTransformation:
  return optax.sgd(schedule, momentum=cfg.get("momentum", 0.0) or None)


def make_optimizer(cfg: ml_collections.ConfigDict,
                   total_steps: int) -> optax.GradientTransformation:
  """The optimizer of one network; `total_steps` counts that network's updates."""
  schedule = SCHEDULES.get(cfg.get("schedule", "constant"))(cfg.lr, cfg, total_steps)
  tx = OPTIMIZERS.get(cfg.name)(schedule, cfg)
  if cfg.get("grad_clip", 0.0):
    tx = optax.chain(optax.clip_by_global_norm(cfg.grad_clip), tx)
  if cfg.get("masked", False):  # a pruning mask in the optimizer state (jaxgen/pruning)
    tx = masked(tx)
  return tx
