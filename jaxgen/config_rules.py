"""Range and choice rules of config fields, declared next to their defaults in config_base.

A rule is a predicate plus the one-line message of a ConfigError naming the field and
what is allowed (jaxgen/config_check.py applies them). Choice rules read their names
lazily from a registry or tuple (`module:ATTR`), so config_base imports no models,
losses or datasets.
"""

from __future__ import annotations

import importlib
import math
from typing import Any, Callable, NamedTuple


class Rule(NamedTuple):
  """`ok(value) -> bool`; `message(path, value)` is the error line when it is not."""
  ok: Callable[[Any], bool]
  message: Callable[[str, Any], str]


def _number(value: Any) -> bool:
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bound(test: Callable[[float], bool], text: str, note: str) -> Rule:
  extra = f" ({note})" if note else ""
  return Rule(lambda v: _number(v) and math.isfinite(v) and test(v),
              lambda path, v: f"{path} must be {text}{extra}, got {v!r}")


def at_least(low: float, note: str = "") -> Rule:
  return _bound(lambda v: v >= low, f">= {low}", note)


def positive(note: str = "") -> Rule:
  return _bound(lambda v: v > 0, "positive", note)


def non_negative(note: str = "") -> Rule:
  return at_least(0, note)


def in_range(low: float, high: float, *, open_low: bool = False, open_high: bool = False,
             note: str = "") -> Rule:
  """low <= v <= high; `open_low` / `open_high` exclude that bound."""
  text = f"in {'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
  return _bound(lambda v: (v > low if open_low else v >= low)
                and (v < high if open_high else v <= high), text, note)


def probability(note: str = "") -> Rule:
  return in_range(0.0, 1.0, note=note)


def _names(names) -> str:
  return ", ".join(repr(n) if n == "" else str(n) for n in names)


def _choice(names: Callable[[], list[str]], prefixes: tuple[str, ...] = ()) -> Rule:
  def ok(v: Any) -> bool:
    return isinstance(v, str) and (v in names() or (bool(prefixes) and v.startswith(prefixes)))

  def message(path: str, v: Any) -> str:
    tail = "".join(f", or {p}<name>" for p in prefixes)
    return f"unknown {path} {v!r}; choose one of: {_names(names())}{tail}"
  return Rule(ok, message)


def one_of(*choices: Any) -> Rule:
  return _choice(lambda: list(choices))


def registry_names(where: str) -> list[str]:
  """The names in `module:ATTR`: a Registry (importing the module registers its
  entries) or a tuple of names."""
  module, attr = where.split(":")
  names = getattr(importlib.import_module(module), attr)
  return list(names.names() if hasattr(names, "names") else names)


def registered(where: str, *extra: str, prefixes: tuple[str, ...] = ()) -> Rule:
  """A name in `module:ATTR` (e.g. 'jaxgen.models:MODELS'), one of `extra`, or a name
  starting with one of `prefixes` (e.g. 'tfds:')."""
  return _choice(lambda: list(extra) + registry_names(where), prefixes)


def comma_list(rule: Rule) -> Rule:
  """A comma-separated string ('' allowed) whose every item satisfies `rule`."""
  def items(v: Any) -> list[str]:
    return [s.strip() for s in v.split(",") if s.strip()]

  def message(path: str, v: Any) -> str:
    if not isinstance(v, str):
      return f"{path} must be a comma-separated string, got {v!r}"
    return rule.message(path, next(s for s in items(v) if not rule.ok(s)))
  return Rule(lambda v: isinstance(v, str) and all(rule.ok(s) for s in items(v)), message)


def positive_ints() -> Rule:
  """A tuple/list of positive ints (e.g. channel counts); () allowed."""
  return Rule(lambda v: isinstance(v, (tuple, list)) and all(
      isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v),
              lambda path, v: f"{path} must be a tuple of positive ints, got {v!r}")
