"""FLOPs and memory of one train step of the zoo's CIFAR configs, from XLA (computed, not run).

    python experiments/scaling/cost_analysis.py [--devices 8] [--out experiments/scaling/costs.json]
    python experiments/scaling/cost_analysis.py --compute_dtype bfloat16 \
        --out experiments/scaling/costs_bfloat16.json

Compiles `trainer.train_step` (n_critic D updates + one G update) with conv_impl='xla'
(the lowering accelerators use) at the global batch (FLOPs from `cost_analysis()`) and
at the per-device batch of a `--devices`-way data mesh (temporaries from
`memory_analysis()`: activations kept for the backward pass plus workspace). Nothing is
trained: the CIFAR data need not be on disk.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.data import DataSpec
from jaxgen.trainers import build_trainer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = ("dcgan_cifar10", "sngan_cifar10", "sagan_cifar10", "biggan_cifar10",
           "stylegan2_cifar10", "stylegan2_ada_cifar10")


def load_config(name: str):
  path = os.path.join(REPO, "configs", name + ".py")
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def _nbytes(tree) -> int:
  return sum(int(np.prod(x.shape)) * jnp.dtype(x.dtype).itemsize for x in jax.tree.leaves(tree))


def _count(tree) -> int:
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def analyse(name: str, devices: int, compute_dtype: str = "float32") -> dict:
  config = load_config(name)
  config.model.conv_impl = "xla"
  config.train.compute_dtype = compute_dtype
  size = config.dataset.image_size
  spec = DataSpec("cifar10", (size, size, 3), 10, "image")
  trainer = build_trainer(config, spec)
  state = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))

  def compiled(batch_size: int):
    batch = {"x": jax.ShapeDtypeStruct((trainer.batches_per_step, batch_size, size, size, 3),
                                       jnp.float32),
             "y": jax.ShapeDtypeStruct((trainer.batches_per_step, batch_size), jnp.int32)}
    return jax.jit(trainer.train_step).lower(state, batch).compile()

  batch_size = config.train.batch_size
  cost = compiled(batch_size).cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  per_device = compiled(batch_size // devices).memory_analysis()
  return {
      "config": name, "compute_dtype": compute_dtype, "batch_size": batch_size,
      "n_critic": config.train.n_critic,
      "g_params": _count(state.g.params), "d_params": _count(state.d.params),
      "state_bytes": _nbytes(state),
      "flops_per_step": float(cost["flops"]),
      "devices": devices,
      "per_device_batch": batch_size // devices,
      "per_device_temp_bytes": int(per_device.temp_size_in_bytes),
  }


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--devices", type=int, default=8)
  parser.add_argument("--configs", default=",".join(CONFIGS),
                      help="comma-separated config names under configs/")
  parser.add_argument("--compute_dtype", default="float32", choices=("float32", "bfloat16"))
  parser.add_argument("--out", default=os.path.join(REPO, "experiments", "scaling",
                                                    "costs.json"))
  args = parser.parse_args()
  rows = []
  for name in args.configs.split(","):
    rows.append(analyse(name, args.devices, args.compute_dtype))
    print(json.dumps(rows[-1]), flush=True)
  with open(args.out, "w", encoding="utf-8") as f:
    json.dump(rows, f, indent=2)


if __name__ == "__main__":
  main()
