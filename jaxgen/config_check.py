"""Checks a whole config before anything is built: types and ranges of every field.

Types come from the defaults in jaxgen/config_base.py (`defaults_for`: base_config, the
optional blocks such as `pruning` found by name, a trainer's own blocks); ranges and
choices from `config_base.RULES`, keyed by dotted field path ('optim.*.lr' patterns
allowed). Every failure is a one-line ConfigError naming the field and what is allowed.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Iterator

from absl import logging
import ml_collections

from jaxgen import config_base
from jaxgen.errors import ConfigError

_TYPE_NAMES = {bool: "a bool", int: "an int", float: "a number", str: "a string",
               tuple: "a tuple/list"}


def _type_of(default: Any) -> type | None:
  for kind in (bool, int, float, str):  # bool first: it is an int subclass
    if isinstance(default, kind):
      return kind
  return tuple if isinstance(default, (tuple, list)) else None


def _has_type(value: Any, kind: type) -> bool:
  if kind is bool:
    return isinstance(value, bool)
  if kind is int:
    return isinstance(value, int) and not isinstance(value, bool)
  if kind is float:  # ints are accepted for floats
    return isinstance(value, (int, float)) and not isinstance(value, bool)
  if kind is tuple:
    return isinstance(value, (tuple, list))
  return isinstance(value, kind)


def _is_block(value: Any) -> bool:
  return isinstance(value, (ml_collections.ConfigDict, dict))


def leaves(config: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
  """(dotted path, value) of every non-block field of `config`."""
  for key, value in config.items():
    path = f"{prefix}{key}"
    if _is_block(value):
      yield from leaves(value, path + ".")
    else:
      yield path, value


def _check_types(config: Any, reference: Any, prefix: str, unknown: list[str]) -> None:
  for key, value in config.items():
    path = f"{prefix}{key}"
    if key not in reference:
      unknown.append(path)  # a whole block counts once
      continue
    default = reference[key]
    if _is_block(default):
      if not _is_block(value):
        raise ConfigError(f"{path} must be a config block (a ConfigDict), got {value!r}")
      _check_types(value, default, path + ".", unknown)
      continue
    kind = _type_of(default)
    if kind is not None and not _has_type(value, kind):
      raise ConfigError(f"{path} must be {_TYPE_NAMES[kind]} (like its default "
                        f"{default!r}), got {value!r} ({type(value).__name__})")


def unknown_fields(config: ml_collections.ConfigDict) -> list[str]:
  """Fields of `config` without a default in jaxgen/config_base.py (e.g. typos)."""
  unknown: list[str] = []
  _check_types(config, config_base.defaults_for(config), "", unknown)
  return unknown


def _check_rules(config: ml_collections.ConfigDict) -> None:
  for path, value in leaves(config):
    for pattern, rule in config_base.RULES.items():
      if fnmatch.fnmatchcase(path, pattern) and not rule.ok(value):
        raise ConfigError(rule.message(path, value))


def _check_relations(config: ml_collections.ConfigDict) -> None:
  """Constraints between fields."""
  t = config.train
  if t.num_steps % t.steps_per_call:
    raise ConfigError(f"train.num_steps={t.num_steps} must be a multiple of "
                      f"train.steps_per_call={t.steps_per_call}")


def validate(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Raises a one-line ConfigError for the first bad field; returns `config`.

  Fields with no default in config_base are logged (a typo or a missing default), not
  rejected, so blocks added elsewhere keep working until their defaults land.
  """
  unknown: list[str] = []
  _check_types(config, config_base.defaults_for(config), "", unknown)
  _check_rules(config)
  _check_relations(config)
  if unknown:
    logging.warning("config fields without a default in jaxgen/config_base.py: %s",
                    ", ".join(unknown))
  return config
