"""Robust accuracy of a classifier: clean and under PGD-k, with the attack's settings.

`robust_metrics` is the classifier trainer's `eval_metrics` (so `python -m jaxgen.evaluate`
reports it for classifier runs); `evaluate_classifier` runs it over a held-out set and
returns the numbers together with the settings that produced them.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from jaxgen import attacks
from jaxgen.data import DataSpec, get_dataset
from jaxgen.errors import UserError

Array = jax.Array
LogitsFn = Callable[[Array], Array]


def _accuracy(logits_fn: LogitsFn, x: Array, y: Array) -> Array:
  return jnp.mean(jnp.argmax(logits_fn(x), -1) == y)


def robust_metrics(logits_fn: LogitsFn, x: Array, y: Array, key: Array, *, eps: float,
                   norm: str = "linf", steps: tuple[int, ...] = (20, 100),
                   restarts: int = 1, bounds=None) -> dict[str, Array]:
  """{'accuracy': clean, 'pgd<k>_accuracy': under PGD-k at eps for each k in `steps`}.

  Untargeted PGD on the cross-entropy, random start, step 2.5 eps / k (Madry et al.),
  `restarts` starts keeping each example's worst case.
  """
  loss_fn = lambda v: optax.softmax_cross_entropy_with_integer_labels(logits_fn(v), y)
  out = {"accuracy": _accuracy(logits_fn, x, y)}
  for i, k in enumerate(steps):
    x_adv = attacks.pgd(loss_fn, x, eps, jax.random.fold_in(key, i), norm=norm, steps=k,
                        restarts=restarts, bounds=bounds)
    out[f"pgd{k}_accuracy"] = _accuracy(logits_fn, x_adv, y)
  return out


def settings(config: ml_collections.ConfigDict) -> dict[str, Any]:
  """The evaluation attack's settings, to report next to its accuracies."""
  a = config.attack
  return {"attack": "pgd", "norm": a.norm, "eps": float(a.eps),
          "eps_01_scale": float(a.eps) / 2, "steps": list(a.eval_steps),
          "step_size": "2.5 eps / steps", "restarts": int(a.eval_restarts),
          "random_start": True, "loss": "cross-entropy", "untargeted": True}


def evaluate_classifier(logits_fn: LogitsFn, x: np.ndarray, y: np.ndarray,
                        config: ml_collections.ConfigDict, *, seed: int = 0,
                        batch_size: int = 500) -> dict[str, Any]:
  """Robust metrics of `logits_fn` over (x, y) at config.attack's settings, batch-averaged."""
  a = config.attack
  bounds = (-1.0, 1.0) if x.ndim == 4 else None
  fn = jax.jit(lambda xb, yb, k: robust_metrics(
      logits_fn, xb, yb, k, eps=a.eps, norm=a.norm, steps=tuple(a.eval_steps),
      restarts=a.eval_restarts, bounds=bounds))
  totals: dict[str, float] = {}
  for i, start in enumerate(range(0, len(x), batch_size)):
    xb, yb = x[start:start + batch_size], y[start:start + batch_size]
    m = jax.device_get(fn(jnp.asarray(xb), jnp.asarray(yb),
                          jax.random.fold_in(jax.random.PRNGKey(seed), i)))
    for k, v in m.items():
      totals[k] = totals.get(k, 0.0) + float(v) * len(xb) / len(x)
  return {**totals, "num_examples": int(len(x)), "settings": settings(config)}


class GridInputs:
  """The classifier trainer's sample-grid inputs: fixed held-out examples (loaded on the
  first call of `noise`), shown as PGD-20 examples at attack.eps."""

  def __init__(self, config: ml_collections.ConfigDict, spec: DataSpec):
    self._dataset_config = config.dataset
    self._seed = int(config.seed)
    self._attack = config.attack
    self._bounds = (-1.0, 1.0) if spec.kind == "image" else None

  def noise(self, key: Array, n: int) -> Array:
    """n held-out inputs (the 'test' split when the source has one); `key` is unused."""
    del key
    from jaxgen.metrics.classifier import held_out_dataset  # a heavy module; used once
    try:
      dataset = held_out_dataset(self._dataset_config)
    except UserError:  # no test split: the grid shows training inputs
      dataset = get_dataset(self._dataset_config)
    return jnp.asarray(dataset.sample(n, seed=self._seed)["x"])

  def adversarial(self, logits_fn: LogitsFn, x: Array) -> Array:
    """PGD-20 examples at attack.eps against the model's own predicted labels."""
    y = jnp.argmax(logits_fn(x), -1)
    loss_fn = lambda v: optax.softmax_cross_entropy_with_integer_labels(logits_fn(v), y)
    return attacks.pgd(loss_fn, x, self._attack.eps, jax.random.PRNGKey(self._seed),
                       norm=self._attack.norm, steps=20, bounds=self._bounds)
