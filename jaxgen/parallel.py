"""Data parallelism over every device of a host or a pod with a 1-D `jax.sharding.Mesh`.

The batch is sharded along the mesh axis 'data'; the train state is replicated. Under
`jax.jit`, XLA inserts the cross-device reductions (gradients, BatchNorm statistics),
so the sharded program computes the same function as the single-device one.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from jaxgen.errors import ConfigError

DATA_AXIS = "data"


def mesh_devices(num_devices: int = 0) -> list[jax.Device]:
  """The first `num_devices` devices (0 = all devices of all processes), checked.

  Devices are ordered by process, so process p holds the p-th block of every batch.
  """
  devices = sorted(jax.devices(), key=lambda d: d.process_index)  # stable within a process
  if num_devices and jax.process_count() > 1 and num_devices != len(devices):
    raise ConfigError(f"train.num_devices={num_devices}: a multi-process run uses every "
                      f"device (0 or {len(devices)})")
  if num_devices:
    if num_devices > len(devices):
      raise ConfigError(f"train.num_devices={num_devices} but only {len(devices)} "
                        "devices are visible")
    devices = devices[:num_devices]
  return devices


def make_mesh(num_devices: int = 0) -> Mesh:
  """A 1-D mesh over `mesh_devices(num_devices)`."""
  return Mesh(np.asarray(mesh_devices(num_devices)), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharding(mesh: Mesh, batch_axis: int) -> NamedSharding:
  """Shards dimension `batch_axis` of an array over the mesh; other dimensions replicated."""
  return NamedSharding(mesh, P(*([None] * batch_axis), DATA_AXIS))


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
  if batch_size % mesh.size:
    raise ConfigError(f"train.batch_size={batch_size} must be divisible by the number of "
                      f"devices ({mesh.size})")


def shard_batch(batch: dict[str, np.ndarray], mesh: Mesh,
                batch_axis: int) -> dict[str, jax.Array]:
  """Turns this process's slice of a batch (`data.process_rows`) into global arrays.

  With one process the slice is the whole batch; on a pod each process passes only the
  rows of its own devices (a `make_mesh` mesh orders devices by process).
  """
  sharding = batch_sharding(mesh, batch_axis)
  count = jax.process_count()

  def put(x: np.ndarray) -> jax.Array:
    if count == 1:
      return jax.device_put(x, sharding)
    shape = list(x.shape)
    shape[batch_axis] *= count
    return jax.make_array_from_process_local_data(sharding, x, tuple(shape))

  return {k: put(v) for k, v in batch.items()}


def replicate(tree: Any, mesh: Mesh) -> Any:
  return jax.device_put(tree, replicated(mesh))
