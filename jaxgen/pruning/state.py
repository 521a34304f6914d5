"""Masks inside train states, whose nets (`g`, `d`, `enc`) hold params and a masked optimizer.

A ticket is a dict {net name: mask}; pruning one net or several jointly is a choice of
which nets go into the dict (`scope_nets`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from jaxgen.errors import ConfigError
from jaxgen.pruning import optimizer as masked_opt
from jaxgen.pruning.masks import Mask, apply_mask

Ticket = dict[str, Mask]


def _is_net(x: Any) -> bool:
  return hasattr(x, "params") and hasattr(x, "opt_state")


def net_names(state: Any) -> tuple[str, ...]:
  """The fields of a model state that are networks (TrainStates), in field order."""
  return tuple(f.name for f in dataclasses.fields(state) if _is_net(getattr(state, f.name)))


def scope_nets(state: Any, scope: str) -> tuple[str, ...]:
  """The nets that `pruning.scope` names: one net ('g', 'd', 'enc') or 'both' (all of them)."""
  nets = net_names(state)
  if scope == "both":
    return nets
  if scope not in nets:
    raise ConfigError(f"unknown pruning.scope {scope!r} for this model; choose one of: "
                      f"{', '.join(['both', *nets])}")
  return (scope,)


def params_of(state: Any, nets: tuple[str, ...]) -> dict[str, Any]:
  return {name: getattr(state, name).params for name in nets}


def net_mask(net: Any) -> Mask:
  return masked_opt.get_mask(net.opt_state)


def set_net_mask(net: Any, mask: Mask) -> Any:
  """The net with `mask` installed: masked weights and optimizer moments set to 0."""
  params = apply_mask(net.params, mask)
  return net.replace(params=params,
                     opt_state=masked_opt.set_mask(net.opt_state, params, mask))


def get_masks(state: Any, nets: tuple[str, ...] | None = None) -> Ticket:
  """The masks of `nets` (default: every net whose optimizer keeps one)."""
  if nets is None:
    nets = tuple(n for n in net_names(state)
                 if masked_opt.has_mask(getattr(state, n).opt_state))
  return {name: net_mask(getattr(state, name)) for name in nets}


def set_masks(state: Any, ticket: Ticket) -> Any:
  """The state with each net of `ticket` masked (weights and moments zeroed)."""
  return state.replace(**{name: set_net_mask(getattr(state, name), mask)
                          for name, mask in ticket.items()})
