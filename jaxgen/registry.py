"""Name -> component registries, so configs pick models, losses and datasets by name."""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from jaxgen.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
  """A mapping from names to components with a one-line error for unknown names.

  `field` is the config field that selects from this registry (e.g. 'model.name');
  it is named in the error so the user knows which flag to fix.
  """

  def __init__(self, field: str):
    self.field = field
    self._entries: dict[str, T] = {}

  def register(self, name: str) -> Callable[[T], T]:
    """Decorator: `@REGISTRY.register('name')` adds the decorated object."""

    def add(obj: T) -> T:
      if name in self._entries:
        raise ValueError(f"{self.field} {name!r} is registered twice")
      self._entries[name] = obj
      return obj

    return add

  def get(self, name: str) -> T:
    """Returns the component called `name`, or raises naming the allowed values."""
    if name not in self._entries:
      raise ConfigError(
          f"unknown {self.field} {name!r}; choose one of: {', '.join(self.names())}"
      )
    return self._entries[name]

  def names(self) -> list[str]:
    return sorted(self._entries)

  def __contains__(self, name: object) -> bool:
    return name in self._entries

  def __iter__(self) -> Iterator[str]:
    return iter(self.names())
