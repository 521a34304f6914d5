"""Rewinding a ticket: the weights of a rewind point (step k, or init) under the mask.

Design: the rewind point is a model state saved at step k (k = 0 is the initialisation,
classic LTH; small k > 0 is "late rewinding"). Rewinding takes that point's params and
BatchNorm statistics, applies the mask, and by default starts a fresh optimizer (Adam
moments 0, its count and the net's step 0). Model-level fields of the state being
rewound (`step`, `key`) are kept, so the IMP driver, which rewinds the freshly
initialised state of each round, retrains every ticket for the same `num_steps` with the
same data order and noise as the dense run. `reset_optimizer=False` keeps the point's
optimizer state (moments zeroed where masked) and net step instead.

The rewound state shares arrays with `point` and the ticket; `jaxgen.train` donates (frees)
the state it trains, so keep host copies (`jax.device_get`) of a point or ticket you reuse.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxgen.pruning.masks import Mask
from jaxgen.pruning.optimizer import has_mask
from jaxgen.pruning.state import Ticket, net_mask, net_names, set_net_mask


def rewind_net(net: Any, point: Any, mask: Mask | None = None, *,
               reset_optimizer: bool = True) -> Any:
  """`net` (its apply_fn and optimizer) with the weights of `point`, masked by `mask`."""
  net = net.replace(params=point.params)
  if hasattr(point, "batch_stats"):
    net = net.replace(batch_stats=point.batch_stats)
  if reset_optimizer:
    # `step * 0` is a 0 of the same type (int or array), so checkpoints keep their structure.
    net = net.replace(opt_state=net.tx.init(point.params), step=net.step * 0)
  else:
    net = net.replace(opt_state=point.opt_state, step=point.step)
  return net if mask is None else set_net_mask(net, mask)


def rewind(state: Any, point: Any, ticket: Ticket, *, reset_optimizer: bool = True) -> Any:
  """Every net of `state` rewound to `point`; nets in `ticket` masked, others keep their mask."""
  nets = {}
  for name in net_names(state):
    net = getattr(state, name)
    mask = ticket.get(name)
    if mask is None and has_mask(net.opt_state):
      mask = net_mask(net)
    nets[name] = rewind_net(net, getattr(point, name), mask,
                            reset_optimizer=reset_optimizer)
  state = state.replace(**nets)
  if getattr(state, "g_ema", None):  # a GAN's weight average restarts at the rewound G
    state = state.replace(g_ema=jax.tree.map(jnp.copy, state.g.params))  # no aliasing
  return state


def reinit(state: Any, fresh: Any, ticket: Ticket) -> Any:
  """The random re-initialisation baseline: the ticket's masks on another init's weights.

  `fresh` is `trainer.init(other_key)`; a winning ticket should beat this.
  """
  return rewind(state, fresh, ticket, reset_optimizer=True)
