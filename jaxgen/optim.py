"""Optax optimizers and learning-rate schedules built from a config block.

A block looks like `ConfigDict(name='adam', lr=2e-4, b1=0.5, b2=0.999, schedule='constant')`;
the generator and the discriminator each get their own (`config.optim.g`, `config.optim.d`).
"""

from __future__ import annotations

import ml_collections
import optax

from jaxgen import config_base
from jaxgen.pruning.optimizer import bn_scale_l1, masked
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
      0.0, lr, cfg.warmup_steps, max(total_steps, 1))


@OPTIMIZERS.register("adam")
def _adam(schedule, cfg: ml_collections.ConfigDict) -> optax.GradientTransformation:
  return optax.adam(schedule, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps)


@OPTIMIZERS.register("adamw")
def _adamw(schedule, cfg: ml_collections.ConfigDict) -> optax.GradientTransformation:
  return optax.adamw(schedule, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps,
                     weight_decay=cfg.weight_decay)


@OPTIMIZERS.register("rmsprop")
def _rmsprop(schedule, cfg: ml_collections.ConfigDict) -> optax.GradientTransformation:
  return optax.rmsprop(schedule, decay=cfg.decay, eps=cfg.eps)


@OPTIMIZERS.register("sgd")
def _sgd(schedule, cfg: ml_collections.ConfigDict) -> optax.GradientTransformation:
  return optax.sgd(schedule, momentum=cfg.momentum or None)


def make_optimizer(cfg: ml_collections.ConfigDict,
                   total_steps: int) -> optax.GradientTransformation:
  """The optimizer of one network; `total_steps` counts that network's updates. Fields
  `cfg` lacks take their config_base.optimizer() defaults."""
  cfg = config_base.complete(config_base.optimizer(), cfg)
  schedule = SCHEDULES.get(cfg.schedule)(cfg.lr, cfg, total_steps)
  tx = OPTIMIZERS.get(cfg.name)(schedule, cfg)
  if cfg.grad_clip:
    tx = optax.chain(optax.clip_by_global_norm(cfg.grad_clip), tx)
  if cfg.bn_l1:  # network slimming's L1 on BatchNorm scales (the early-bird search)
    tx = optax.chain(bn_scale_l1(cfg.bn_l1), tx)
  if cfg.masked:  # a pruning mask in the optimizer state (jaxgen/pruning)
    tx = masked(tx)
  return tx
