"""The entropic GAN's sample-likelihood surrogate (Balaji et al., NeurIPS 2019, Thm. 1).

For an example y and latents z_1..z_N ~ N(0, I), with c_i = c(y, G(z_i)) and
p_i proportional to exp(-|z_i|^2/2) exp((D1(y) - D2(G(z_i)) - c_i) / lambda),
  surrogate(y) = -(1/lambda) (sum_i p_i c_i - lambda H(p)) + sum_i p_i (-|z_i|^2 / 2),
a lower bound on log f(y) up to constants: it ranks examples by likelihood under G.
D1(y) cancels in p and is a constant per example, so only G and D2 are needed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxgen.losses.entropic import pairwise_cost


def entropic_log_likelihood(y: jax.Array, z: jax.Array, fake: jax.Array,
                            d2_fake: jax.Array, lam: float, cost: str = "l1",
                            chunk: int = 16) -> jax.Array:
  """Surrogate log-likelihoods [B] of examples y [B, ...] from the latents z [N, latent],
  their samples fake = G(z) [N, ...] and D2(fake) [N]; `chunk` examples at a time."""
  half_sq_norm = 0.5 * jnp.sum(z.reshape(z.shape[0], -1) ** 2, axis=-1)

  def one(example: jax.Array) -> jax.Array:
    c = pairwise_cost(fake, example[None], cost)[:, 0]   # [N]
    log_p = jax.nn.log_softmax(-half_sq_norm + (-d2_fake - c) / lam)
    p = jnp.exp(log_p)
    entropy = -jnp.sum(p * log_p)
    return -(jnp.sum(p * c) - lam * entropy) / lam - jnp.sum(p * half_sq_norm)

  return jax.lax.map(one, y, batch_size=chunk)
