"""The grid of a sweep: which config fields vary, how each can vary, and how runs group.

A run is one point of the product of the swept values and the seeds. Float fields
(learning rates, Adam betas, loss weights) are traced: they vary per run inside one
program. Other fields (loss names, widths, n_critic, and floats the trainer branches on
in Python) are Python values: runs that share them form a *branch* (one vmapped
trainer); branches whose train states have the same shapes form a *group*, one compiled
program; groups run one after another.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import json
from typing import Any, Collection, Mapping, Sequence

import jax
import ml_collections

from jaxgen import config_check, data
from jaxgen.errors import ConfigError
from jaxgen.trainers import Trainer, build_trainer

# Fields the runs of a sweep share because the loop, not the trainer, reads them.
LOOP_FIELDS = ("train.num_steps", "train.steps_per_call", "train.log_every",
               "train.sample_every", "train.checkpoint_every", "train.keep_checkpoints",
               "train.async_checkpoints", "train.num_devices", "train.progress_bar",
               "train.num_grid_samples")
# Float fields whose negative values are sentinels the trainer resolves in Python.
_SENTINEL_BELOW = {"loss.penalty_weight": 0.0}
_HOW = ("sweep the seed, float fields (learning rates, betas, loss weights) or "
        "Python-valued model/loss/optimizer fields")


@dataclasses.dataclass(frozen=True)
class Run:
  """One training run of the sweep: its seed and its value of every swept field."""
  index: int
  seed: int
  values: dict[str, Any]


@dataclasses.dataclass
class Branch:
  """Runs sharing every Python-valued field: one trainer, vmapped over the runs."""
  config: ml_collections.ConfigDict  # the base config with this branch's Python values
  traced: tuple[str, ...]            # float fields that vary per run (traced)
  runs: list[Run]
  trainer: Trainer                   # built from `config`, for host-side sampling
  dataset: data.Dataset


@dataclasses.dataclass
class Group:
  """Branches whose train states have the same shapes: one compiled program."""
  index: int
  branches: list[Branch]

  @property
  def runs(self) -> list[Run]:
    return [run for branch in self.branches for run in branch.runs]


@dataclasses.dataclass
class Grid:
  fields: dict[str, list[Any]]  # swept field -> values, in the order given
  seeds: list[int]
  runs: list[Run]               # all runs, by index
  groups: list[Group]

  def describe(self) -> dict[str, Any]:
    """JSON-able identity of the grid (a resumed sweep must have the same)."""
    return {"fields": self.fields, "seeds": self.seeds}


def get_field(config: ml_collections.ConfigDict, field: str) -> Any:
  """The value of dotted `field`, or a one-line error if the config has no such scalar."""
  node: Any = config
  for part in field.split("."):
    if not isinstance(node, ml_collections.ConfigDict) or part not in node:
      raise ConfigError(f"cannot sweep {field}: the config has no such field")
    node = node[part]
  if isinstance(node, (ml_collections.ConfigDict, list, tuple, dict)) or node is None:
    raise ConfigError(f"cannot sweep {field}: it is not a scalar field")
  return node


def set_field(config: ml_collections.ConfigDict, field: str, value: Any) -> None:
  *parents, leaf = field.split(".")
  node = config
  for part in parents:
    node = node[part]
  node[leaf] = value


def parse_values(config: ml_collections.ConfigDict, field: str, text: str) -> list[Any]:
  """Comma-separated command-line values, converted to the type of the config field."""
  if field == "seed":
    return [_convert(field, int, v) for v in text.split(",")]
  kind = type(get_field(config, field))
  return [_convert(field, kind, v.strip()) for v in text.split(",")]


def _convert(field: str, kind: type, value: Any) -> Any:
  try:
    if kind is bool and isinstance(value, str):
      if value.lower() not in ("true", "false", "1", "0"):
        raise ValueError(value)
      return value.lower() in ("true", "1")
    if kind is int and isinstance(value, str):
      return int(ast.literal_eval(value))
    return kind(value)
  except (ValueError, TypeError, SyntaxError):
    raise ConfigError(f"sweep values of {field} must be {kind.__name__}s, got {value!r}"
                      ) from None


def _is_traced(config: ml_collections.ConfigDict, field: str, values: Sequence[Any],
               python_fields: Collection[str]) -> bool:
  """Float fields the trainer reads are traced, unless listed or holding a sentinel."""
  value = get_field(config, field)
  sentinel = field in _SENTINEL_BELOW and min(values) < _SENTINEL_BELOW[field]
  return (isinstance(value, float) and not field.startswith("dataset.") and not sentinel
          and field not in python_fields)


def _seeds(config: ml_collections.ConfigDict, fields: Mapping[str, Sequence[Any]],
           seeds: int | Sequence[int] | None) -> list[int]:
  if "seed" in fields:
    if seeds is not None:
      raise ConfigError("give either sweep seeds (a count) or sweep seed (a list), not both")
    values = [_convert("seed", int, s) for s in fields["seed"]]
  elif isinstance(seeds, int) or seeds is None:
    count = 1 if seeds is None else seeds
    if count < 1:
      raise ConfigError(f"sweep seeds must be a positive count, got {count}")
    values = [config.seed + i for i in range(count)]
  else:
    values = [_convert("seed", int, s) for s in seeds]
  if not values or len(set(values)) != len(values) or min(values) < 0:
    raise ConfigError(f"sweep seeds must be distinct non-negative integers, got {values}")
  return values


def _state_signature(trainer: Trainer, branch_config: ml_collections.ConfigDict,
                     spec: data.DataSpec) -> tuple:
  """Shapes of the train state and batch: branches with equal signatures share a program."""
  state = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
  leaves = jax.tree_util.tree_flatten_with_path(state)[0]
  return (tuple((jax.tree_util.keystr(p), x.shape, str(x.dtype)) for p, x in leaves),
          trainer.batches_per_step, branch_config.train.batch_size, spec)


def make_grid(config: ml_collections.ConfigDict, fields: Mapping[str, Sequence[Any]],
              seeds: int | Sequence[int] | None = None,
              python_fields: Collection[str] = ()) -> Grid:
  """Expands swept `fields` x `seeds` into runs (seeds innermost) grouped into programs.

  `python_fields` are float fields to treat as Python values (the trainer branches on
  them), one branch per value.
  """
  config = config.copy_and_resolve_references()
  seed_list = _seeds(config, fields, seeds)
  fields = {f: list(v) for f, v in fields.items() if f != "seed"}
  for field, values in fields.items():
    if field in LOOP_FIELDS:
      raise ConfigError(f"cannot sweep {field}: every run of a sweep shares the training "
                        f"loop; {_HOW}")
    kind = type(get_field(config, field))
    if not values:
      raise ConfigError(f"sweep field {field} has no values")
    fields[field] = [_convert(field, kind, v) for v in values]
    if len(set(fields[field])) != len(fields[field]):
      raise ConfigError(f"sweep values of {field} repeat: {fields[field]}")
  traced = tuple(f for f, v in fields.items() if _is_traced(config, f, v, python_fields))
  python = tuple(f for f in fields if f not in traced)
  runs = []
  for index, combo in enumerate(itertools.product(*fields.values(), seed_list)):
    runs.append(Run(index, combo[-1], dict(zip(fields, combo[:-1]))))
  for run in runs:  # each run's config passes the checks jaxgen.main would make
    run_fields = config.copy_and_resolve_references()
    run_fields.seed = run.seed
    for field, value in run.values.items():
      set_field(run_fields, field, value)
    config_check.validate(run_fields)

  datasets: dict[str, data.Dataset] = {}
  groups: list[Group] = []
  signatures: list[tuple] = []
  for static in itertools.product(*(fields[f] for f in python)):
    branch_config = config.copy_and_resolve_references()
    for field, value in zip(python, static):
      set_field(branch_config, field, value)
    key = json.dumps(branch_config.dataset.to_dict(), sort_keys=True, default=str)
    if key not in datasets:
      datasets[key] = data.get_dataset(branch_config.dataset)
    dataset = datasets[key]
    trainer = build_trainer(branch_config, dataset.spec)
    members = [r for r in runs if all(r.values[f] == v for f, v in zip(python, static))]
    branch = Branch(branch_config, traced, members, trainer, dataset)
    signature = _state_signature(trainer, branch_config, dataset.spec)
    if signature in signatures:
      groups[signatures.index(signature)].branches.append(branch)
    else:
      signatures.append(signature)
      groups.append(Group(len(groups), [branch]))
  return Grid(fields, seed_list, runs, groups)


def run_config(branch: Branch, run: Run) -> ml_collections.ConfigDict:
  """The plain config that trains `run` alone (what `jaxgen.main` would be given)."""
  config = branch.config.copy_and_resolve_references()
  config.seed = run.seed
  for field in branch.traced:
    set_field(config, field, run.values[field])
  return config
