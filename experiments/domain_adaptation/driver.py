"""In-process runs of the DA trainers with DomainBed's model selection (source validation).

`run(config)` trains with the trainer's pure train_step (jitted lax.scan of `chunk` steps,
the same batches as `python -m jaxgen.main`), evaluates the source-validation and target
accuracy every `eval_every` steps on the whole held-out splits, and returns the target
accuracy of the evaluation with the best source-validation accuracy.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import data
from jaxgen.metrics.classifier import with_split
from jaxgen.trainers import build_trainer
from jaxgen.trainers.da_erm import Classifier


def _accuracy(predict, x: np.ndarray, y: np.ndarray, batch: int = 500) -> float:
  """Accuracy over all of x; the last batch is padded, so one compiled shape."""
  correct = 0
  for i in range(0, len(y), batch):
    xb = x[i:i + batch]
    pad = np.zeros((batch - len(xb),) + xb.shape[1:], xb.dtype)
    pred = np.asarray(predict(jnp.asarray(np.concatenate([xb, pad]))))[:len(xb)]
    correct += int(np.sum(pred == y[i:i + batch]))
  return correct / len(y)


def held_out(config) -> dict[str, np.ndarray]:
  """All source-validation and target-test examples (the dataset's 'test' split)."""
  test = data.get_dataset(with_split(config.dataset, "test"))
  batch = test._gather(np.arange(test.num_source), np.arange(test.num_examples))  # pylint: disable=protected-access
  return {k: batch[k] for k in ("x", "y", "x_t", "y_t")}


def run(config, eval_every: int, chunk: int = 50) -> dict:
  """Trains `config`; returns final and source-validation-selected accuracies."""
  start = time.time()
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  evalset = held_out(config)
  state = jax.jit(trainer.init)(jax.random.PRNGKey(config.seed))  # eager init is slow

  @jax.jit
  def steps(state, batch):
    state, metrics = jax.lax.scan(trainer.train_step, state, batch)
    return state, jax.tree.map(jnp.mean, metrics)

  predict = jax.jit(lambda nets, x: jnp.argmax(Classifier.logits(nets, x), -1))
  stream = dataset.batches(config.train.batch_size, seed=config.seed)
  history = []
  for step in range(chunk, config.train.num_steps + 1, chunk):
    group = [next(stream) for _ in range(chunk)]
    batch = {k: np.stack([b[k] for b in group])[:, None] for k in group[0]}
    state, metrics = steps(state, batch)
    if step % eval_every == 0:
      p = lambda x: predict(state.nets, x)
      history.append(dict(step=step, src_val_acc=_accuracy(p, evalset["x"], evalset["y"]),
                          target_acc=_accuracy(p, evalset["x_t"], evalset["y_t"]),
                          **{k: float(v) for k, v in metrics.items()}))
  best = max(history, key=lambda h: h["src_val_acc"])  # first best on ties
  return dict(selected_target_acc=best["target_acc"], selected_step=best["step"],
              selected_src_val_acc=best["src_val_acc"], final_target_acc=history[-1]["target_acc"],
              final_src_val_acc=history[-1]["src_val_acc"], history=history,
              seconds=time.time() - start)
