"""Multi-source domains: leave-one-domain-out over a named set of domains (DomainBed).

`dataset.name = multi_source` takes `dataset.domain_set` (a registered set or a
comma-separated list of domains of jaxgen/data/domains.py) and `dataset.held_out` (the
target; '' = the set's last domain). The other domains are the labelled sources, in the
set's order, with source index 'd' per example; the batches are those of
`domain_adaptation` (source 'x', 'y', 'd'; target 'x_t', 'y_t').
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ml_collections

from jaxgen.data import domains
from jaxgen.data.base import DATASETS
from jaxgen.errors import ConfigError
from jaxgen.registry import Registry

DOMAIN_SETS: Registry[tuple[str, ...]] = Registry("dataset.domain_set")
DOMAIN_SETS.register("rotated")(
    tuple(f"fashion_mnist_rot{deg}" for deg in domains.ROTATIONS))  # DomainBed RotatedMNIST
DOMAIN_SETS.register("colored")(
    tuple(f"fashion_mnist_colored{flip}" for flip in domains.COLOUR_FLIPS))  # ColoredMNIST
DOMAIN_SETS.register("fashion_mix")(("fashion_mnist", "fashion_mnist_m", "fashion_mnist_rot45"))


def domain_set(dataset_config: Any) -> tuple[str, ...]:
  """The domains of `dataset.domain_set`: a registered set, or a comma-separated list."""
  name = str(dataset_config.domain_set).strip()
  if "," not in name:
    if not name:
      raise ConfigError("dataset.domain_set must name a set (one of: "
                        f"{', '.join(DOMAIN_SETS.names())}) or list domains 'a,b,c'")
    return DOMAIN_SETS.get(name)
  names = tuple(s.strip() for s in name.split(",") if s.strip())
  for n in names:
    domains.DOMAINS.get(n)  # an unknown name fails here, listing the domains
  return names


def split_domains(dataset_config: Any) -> tuple[tuple[str, ...], str]:
  """(source domains in the set's order, held-out target domain)."""
  names = domain_set(dataset_config)
  target = str(dataset_config.held_out).strip() or names[-1]
  if target not in names:
    raise ConfigError(f"dataset.held_out must be one of the set's domains "
                      f"({', '.join(names)}), got {target!r}")
  sources = tuple(n for n in names if n != target)
  if not sources:
    raise ConfigError("dataset.domain_set needs at least two domains")
  return sources, target


def source_names(dataset_config: Any) -> tuple[str, ...]:
  """The source domains, index d -> name (also for a plain domain_adaptation block)."""
  if dataset_config.name == "multi_source":
    return split_domains(dataset_config)[0]
  return tuple(s.strip() for s in str(dataset_config.source).split(",") if s.strip())


@DATASETS.register("multi_source")
def build_multi_source(config: Any) -> domains.DomainAdaptationDataset:
  """Sources = the set minus `held_out`; target = `held_out` (unlabelled or unseen)."""
  sources, target = split_domains(config)
  fields = config.to_dict() if hasattr(config, "to_dict") else dict(config)
  fields.update(name="domain_adaptation", source=",".join(sources), target=target)
  dataset = domains.build_domain_adaptation(ml_collections.ConfigDict(fields))
  dataset.spec = dataclasses.replace(dataset.spec, name="multi_source")
  dataset.source_names, dataset.target_name = sources, target
  return dataset
