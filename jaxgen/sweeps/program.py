"""One compiled program per group: K stacked train states trained by vmapped trainers.

Inside the program each branch builds its trainer from a copy of its config whose
traced fields are the per-run values (tracers under `jax.vmap`), so the trainer's pure
closures use each run's learning rate, betas or loss weight. The stacked run axis is
sharded over the mesh axis 'runs', and each run's batch over 'data'.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from jaxgen import parallel
from jaxgen.parallel import DATA_AXIS
from jaxgen.sweeps.grid import Branch, Group, run_config, set_field
from jaxgen.trainers import Trainer, build_trainer

RUNS_AXIS = "runs"
HParams = Mapping[str, jax.Array]  # traced field -> value of one run


def traced_config(config: ml_collections.ConfigDict,
                  values: HParams) -> ml_collections.ConfigDict:
  """A copy of `config` whose fields `values` hold (possibly traced) arrays."""
  copy = ml_collections.ConfigDict(config.to_dict(), type_safe=False)
  for field, value in values.items():
    set_field(copy, field, value)
  return copy


def with_static_fields(trainer: Trainer, state: Any) -> Any:
  """`state`'s arrays under the static fields (optimizers, apply functions) of `trainer`.

  A state carries its optimizer as a static field, built from the config it was
  initialised with; a run's traced hyper-parameters only act through a rebuilt one.
  """
  shape = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
  return jax.tree.unflatten(jax.tree.structure(shape), jax.tree.leaves(state))


class BranchFns(NamedTuple):
  """Single-run functions of one branch, with the traced fields as an explicit input."""
  init: Callable[[jax.Array, HParams], Any]
  multi_step: Callable[[Any, Any, HParams], tuple[Any, Any]]


def branch_fns(branch: Branch) -> BranchFns:
  spec = branch.dataset.spec

  def trainer_for(hparams: HParams) -> Trainer:
    return build_trainer(traced_config(branch.config, hparams), spec)

  def init(key: jax.Array, hparams: HParams) -> Any:
    return trainer_for(hparams).init(key)

  def multi_step(state: Any, batch: Any, hparams: HParams) -> tuple[Any, Any]:
    trainer = trainer_for(hparams)
    state, metrics = jax.lax.scan(trainer.train_step, with_static_fields(trainer, state),
                                  batch)
    return state, jax.tree.map(jnp.mean, metrics)

  return BranchFns(init, multi_step)


def untraceable_fields(branch: Branch,
                       batch: Mapping[str, jax.ShapeDtypeStruct]) -> tuple[str, ...]:
  """The traced fields of `branch` that its trainer needs as Python values.

  A trainer that branches on a value in Python (`if clip:`) fails to trace it; such a
  field must be swept as a Python value instead, one compiled branch per value.
  """
  fns = branch_fns(branch)
  key = jax.ShapeDtypeStruct((2,), jnp.uint32)

  def traces(fields: tuple[str, ...]) -> bool:
    hparams = {f: jax.ShapeDtypeStruct((), jnp.float32) for f in fields}
    try:
      state = jax.eval_shape(fns.init, key, hparams)
      jax.eval_shape(fns.multi_step, state, batch, hparams)
    except jax.errors.JAXTypeError:  # concretization of a tracer (bool, int, array)
      return False
    return True

  if not branch.traced or traces(branch.traced):
    return ()
  return tuple(f for f in branch.traced if not traces((f,))) or branch.traced


def choose_mesh(run_counts: list[int], batch_size: int, num_devices: int = 0) -> Mesh:
  """A ('runs', 'data') mesh: runs spread over devices, data parallelism for the rest.

  Uses the most devices it can such that the 'runs' size divides every branch's run
  count and the 'data' size divides the batch; ties go to more run parallelism.
  """
  devices = parallel.mesh_devices(num_devices)
  n = len(devices)
  best = (1, 1)
  for runs in range(1, n + 1):
    for size in range(1, n // runs + 1):
      fits = all(k % runs == 0 for k in run_counts) and batch_size % size == 0
      if fits and (runs * size, runs) > (best[0] * best[1], best[0]):
        best = (runs, size)
  runs, size = best
  return Mesh(np.asarray(devices[:runs * size]).reshape(runs, size), (RUNS_AXIS, DATA_AXIS))


class Program(NamedTuple):
  """One group's jitted multi-step; states are tuples over its branches."""
  init: Callable[[], tuple]
  step: Callable[[tuple, tuple, tuple], tuple[tuple, tuple]]
  run_sharding: NamedSharding
  batch_sharding: NamedSharding
  host_states: Callable[[tuple], tuple]  # re-attaches the host-built static fields


def build_program(group: Group, mesh: Mesh) -> Program:
  """`init()` -> stacked states; `step(states, batches, hparams)` (compiled on first call)."""
  fns = [branch_fns(b) for b in group.branches]
  run_sharding = NamedSharding(mesh, P(RUNS_AXIS))
  batch_sharding = NamedSharding(mesh, P(RUNS_AXIS, None, None, DATA_AXIS))
  treedefs = tuple(jax.tree.structure(jax.eval_shape(b.trainer.init, jax.random.PRNGKey(0)))
                   for b in group.branches)

  def host_states(states: tuple) -> tuple:
    # Static fields built inside the program close over its tracers; put back the
    # host-built ones (equal treedefs also keep the jit cache hit on the next call).
    return tuple(jax.tree.unflatten(d, jax.tree.leaves(s)) for d, s in zip(treedefs, states))

  def init() -> tuple:
    # Each run is initialised exactly as a lone run of its config would be.
    stacked = []
    for branch in group.branches:
      states = [build_trainer(run_config(branch, run), branch.dataset.spec).init(
          jax.random.PRNGKey(run.seed)) for run in branch.runs]
      stacked.append([np.stack(xs) for xs in zip(*map(jax.tree.leaves, states))])
    return host_states(jax.device_put(stacked, run_sharding))

  def step(states: tuple, batches: tuple, hparams: tuple) -> tuple[tuple, tuple]:
    out = [jax.vmap(f.multi_step)(s, b, h)
           for f, s, b, h in zip(fns, states, batches, hparams)]
    return tuple(s for s, _ in out), tuple(m for _, m in out)

  jit_step = jax.jit(step, out_shardings=(run_sharding, run_sharding), donate_argnums=0)

  def host_step(states: tuple, batches: tuple, hparams: tuple) -> tuple[tuple, tuple]:
    states, metrics = jit_step(states, batches, hparams)
    return host_states(states), metrics

  return Program(init, host_step, run_sharding, batch_sharding, host_states)
