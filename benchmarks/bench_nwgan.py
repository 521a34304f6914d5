"""The NW-GAN's K-component generator: one nn.vmap'd module vs a Python loop over K.

Both compute the generator's loss and gradient for K = 9 linear components
(2->64->64->64->2, the NW paper's 2-D setting) on a batch of 1024 latents each, under
one jax.jit; the loop applies K separate modules and stacks their outputs. Calls
alternate (vmap, loop, vmap, ...), so load from other processes hits both alike.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from benchmarks.common import block, interleaved_medians, markdown_table  # noqa: E402
from jaxgen.models.mixture import LinearGenerator, MixtureGenerator  # noqa: E402

BATCH = 1024


def _loss_and_grad(apply):
  """jit(grad) of a toy critic-free loss: mean squared output of every component."""
  return jax.jit(jax.value_and_grad(lambda params, z: jnp.mean(apply(params, z) ** 2)))


def seconds(num_components: int, repeats: int = 20) -> tuple[float, float]:
  component = LinearGenerator(output_shape=(2,))
  z = jax.random.normal(jax.random.PRNGKey(0), (num_components, BATCH, 2))
  mixture = MixtureGenerator(component, num_components)
  vmapped_params = mixture.init(jax.random.PRNGKey(1), z)
  vmapped = _loss_and_grad(lambda p, z: mixture.apply(p, z))
  loop_params = [component.init(k, z[0]) for k in jax.random.split(jax.random.PRNGKey(1),
                                                                   num_components)]
  loop = _loss_and_grad(lambda ps, z: jnp.stack([component.apply(p, z[k])
                                                 for k, p in enumerate(ps)]))
  fns = {"vmap": lambda: block(vmapped(vmapped_params, z)),
         "loop": lambda: block(loop(loop_params, z))}
  for fn in fns.values():  # compile and warm up
    fn()
  t = interleaved_medians(fns, repeats)
  return t["vmap"], t["loop"]


def main() -> str:
  rows = []
  for k in (3, 9):
    t_vmap, t_loop = seconds(k)
    rows.append([k, t_vmap * 1e3, t_loop * 1e3, t_loop / t_vmap])
  table = ("Medians of 20 alternating calls after one warm-up call each.\n\n"
           + markdown_table(["K", "nn.vmap (ms)", "Python loop (ms)", "loop / vmap"], rows))
  print(table)
  return table


if __name__ == "__main__":
  main()
