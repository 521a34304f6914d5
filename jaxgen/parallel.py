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

DATA_AXIS = "data"


def make_mesh(num_devices: int = 0) -> Mesh:
  """A mesh over the first `num_devices` devices (0 = all devices of all processes)."""
  devices = jax.devices()
  if num_devices:
    if num_devices > len(devices):
      raise ValueError(f"train.num_devices={num_devices} but only {len(devices)} "
                       "devices are visible")
    devices = devices[:num_devices]
  return Mesh(np.asarray(devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharding(mesh: Mesh, batch_axis: int) -> NamedSharding:
  """Shards dimension `batch_axis` of an array over the mesh; other dimensions replicated."""
  return NamedSharding(mesh, P(*([None] * batch_axis), DATA_AXIS))


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
  if batch_size % mesh.size:
    raise ValueError(f"train.batch_size={batch_size} must be divisible by the number of "
                     f"devices ({mesh.size})")


def shard_batch(batch: dict[str, np.ndarray], mesh: Mesh,
                batch_axis: int) -> dict[str, jax.Array]:
  """Turns a host batch (the global batch, same on every process) into global arrays.

  Each process contributes its own slice of the batch axis, so this also works on a pod.
  """
  sharding = batch_sharding(mesh, batch_axis)
  index, count = jax.process_index(), jax.process_count()

  def put(x: np.ndarray) -> jax.Array:
    if count == 1:
      return jax.device_put(x, sharding)
    local = np.split(x, count, axis=batch_axis)[index]
    return jax.make_array_from_process_local_data(sharding, local, x.shape)

  return {k: put(v) for k, v in batch.items()}


def replicate(tree: Any, mesh: Mesh) -> Any:
  return jax.device_put(tree, replicated(mesh))
