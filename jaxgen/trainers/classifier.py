"""Classifier training: clean, Madry PGD adversarial training, and IAAT (Balaji et al. 2019).

`adv.method`: none = cross-entropy on clean batches; pgd = on PGD examples at attack.eps
(Madry et al. 2018); iaat = on PGD examples at each example's own eps, kept in the state
(`ClassifierState.eps`, indexed by the batch's 'index') and updated at every visit by
`iaat_update` (the authors' trainer_adaptive.py). Step randomness is fold_in(key, step).
"""

from __future__ import annotations

from typing import Callable

import flax
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen import attacks
from jaxgen.data import DataSpec, get_dataset
from jaxgen.errors import ConfigError, DataError
from jaxgen.metrics import robust
from jaxgen.models.classifiers import build_classifier
from jaxgen.optim import make_optimizer
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.gan import NetState

AUGMENTS = ("crop", "flip")


@flax.struct.dataclass
class ClassifierState:
  step: jax.Array   # updates done
  net: NetState     # the classifier
  key: jax.Array    # base PRNG key; step keys are fold_in(key, step)
  eps: jax.Array    # IAAT: per-training-example eps [N]; otherwise [1] zeros (a placeholder:
                    # Orbax cannot save empty arrays)


def iaat_update(eps_prev: jax.Array, clean_correct: jax.Array, correct_high: jax.Array,
                correct_cur: jax.Array, gamma: float, beta: float) -> jax.Array:
  """IAAT's eps update: eps + gamma if robust there, eps if robust at eps, else eps - gamma;
  0 where wrong on clean data; clamped at 0; then beta * new + (1 - beta) * old."""
  new = jnp.where(correct_high, eps_prev + gamma,
                  jnp.where(correct_cur, eps_prev, eps_prev - gamma))
  new = jnp.maximum(new * clean_correct, 0.0)
  return beta * new + (1.0 - beta) * eps_prev


def iaat_step_size(eps: jax.Array, steps: int, min_step_size: float) -> jax.Array:
  """The authors' PGD step: max(eps_i / (steps / 2), min_step_size)."""
  return jnp.maximum(eps / (0.5 * steps), min_step_size)


def augment(names: tuple[str, ...], key: jax.Array, x: jax.Array) -> jax.Array:
  """crop: reflect-pad 4 pixels and crop back at a random offset; flip: horizontal, p=1/2."""
  crop_key, flip_key = jax.random.split(key)
  b, h, w, _ = x.shape
  if "crop" in names:
    padded = jnp.pad(x, ((0, 0), (4, 4), (4, 4), (0, 0)), mode="reflect")
    offsets = jax.random.randint(crop_key, (b, 2), 0, 9)
    x = jax.vmap(lambda im, o: jax.lax.dynamic_slice(im, (o[0], o[1], 0),
                                                     (h, w, x.shape[3])))(padded, offsets)
  if "flip" in names:
    flip = jax.random.bernoulli(flip_key, 0.5, (b, 1, 1, 1))
    x = jnp.where(flip, x[:, :, ::-1], x)
  return x


def _parse_augment(policy: str, spec: DataSpec) -> tuple[str, ...]:
  names = tuple(p.strip() for p in policy.split(",") if p.strip())
  for name in names:
    if name not in AUGMENTS:
      raise ConfigError(f"unknown classifier.augment {name!r}; choose from: "
                        f"{', '.join(AUGMENTS)}")
  if names and spec.kind != "image":
    raise ConfigError("classifier.augment needs image data; set it to ''")
  return names


def _num_train_examples(config: ml_collections.ConfigDict) -> int:
  n = getattr(get_dataset(config.dataset), "num_examples", None)
  if n is None:
    raise DataError(f"adv.method 'iaat' needs a finite dataset; {config.dataset.name!r} "
                    f"has no num_examples")
  return int(n)


def _check(config: ml_collections.ConfigDict) -> None:
  if config.adv.method not in ("none", "pgd", "iaat"):
    raise ConfigError(f"unknown adv.method {config.adv.method!r}; choose one of: "
                      f"none, pgd, iaat")
  if config.adv.method != "none" and config.attack.name not in ("pgd", "fgsm"):
    raise ConfigError(f"adv.method {config.adv.method!r} trains on attack.name pgd or fgsm, "
                      f"got {config.attack.name!r}")


@TRAINERS.register("classifier")
def build_classifier_trainer(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """Cross-entropy training of `config.classifier` with `config.adv` adversarial examples."""
  _check(config)
  model = build_classifier(config.classifier, spec)
  names = _parse_augment(config.classifier.augment, spec)
  method, a, adv = config.adv.method, config.attack, config.adv
  bounds = (-1.0, 1.0) if spec.kind == "image" else None
  num_eps = _num_train_examples(config) if method == "iaat" else 0
  batch_size = config.train.batch_size
  weight_decay = config.classifier.weight_decay
  grid = robust.GridInputs(config, spec)

  def logits_fn(net: NetState, x: jax.Array, train: bool, params=None):
    """Logits and (in training mode) the batch statistics the forward pass computed."""
    variables = {"params": net.params if params is None else params}
    if net.batch_stats:
      variables["batch_stats"] = net.batch_stats
    if not train or not net.batch_stats:
      return net.apply_fn(variables, x, train=train), net.batch_stats
    out, updates = net.apply_fn(variables, x, train=True, mutable=["batch_stats"])
    return out, updates["batch_stats"]

  def ce_fn(net: NetState, y: jax.Array, train: bool) -> Callable[[jax.Array], jax.Array]:
    """The attacks' per-example loss; in training the network runs as it trains (BN on
    batch statistics, as the authors' attack in model.train()) without keeping the stats."""
    return lambda x: optax.softmax_cross_entropy_with_integer_labels(
        logits_fn(net, x, train)[0], y)

  def correct(net: NetState, x: jax.Array, y: jax.Array) -> jax.Array:
    return (jnp.argmax(logits_fn(net, x, True)[0], -1) == y).astype(x.dtype)

  def attack_at(net, x, y, eps, key):
    """The training attack at per-example eps with the authors' step-size rule."""
    loss_fn = ce_fn(net, y, True)
    if a.name == "fgsm":
      return attacks.fgsm(loss_fn, x, eps, norm=a.norm, bounds=bounds)
    return attacks.pgd(loss_fn, x, eps, key, norm=a.norm, steps=a.steps,
                       step_size=iaat_step_size(eps, a.steps, a.min_step_size),
                       restarts=a.restarts, bounds=bounds)

  def select_eps(state: ClassifierState, x, y, index, key):
    """IAAT's epsilon_select: returns (eps of this batch, updated eps memory)."""
    net = state.net
    clean_correct = correct(net, x, y)
    epoch = state.step * batch_size // num_eps
    prev = state.eps[index]

    def warmup(_):
      return a.eps * clean_correct

    def adapt(_):
      high_key, cur_key = jax.random.split(key)
      high = prev + adv.gamma
      correct_high = correct(net, attack_at(net, x, y, high, high_key), y)
      correct_cur = correct(net, attack_at(net, x, y, prev, cur_key), y)
      return iaat_update(prev, clean_correct, correct_high, correct_cur, adv.gamma, adv.beta)

    eps = jax.lax.cond(epoch < adv.warmup_epochs, warmup, adapt, None)
    return jax.lax.stop_gradient(eps), state.eps.at[index].set(eps)

  def init(key: jax.Array) -> ClassifierState:
    net_key, state_key = jax.random.split(key)
    variables = model.init(net_key, jnp.zeros((2,) + tuple(spec.shape)), train=True)
    net = NetState.create(apply_fn=model.apply, params=variables["params"],
                          tx=make_optimizer(config.optim.c, config.train.num_steps),
                          batch_stats=variables.get("batch_stats", {}))
    return ClassifierState(step=jnp.zeros((), jnp.int32), net=net, key=state_key,
                           eps=jnp.zeros((max(num_eps, 1),), jnp.float32))

  def train_step(state: ClassifierState, batch: Batch) -> tuple[ClassifierState, Metrics]:
    x, y = batch["x"][0], batch["y"][0]  # batches_per_step = 1
    key = jax.random.fold_in(state.key, state.step)
    aug_key, select_key, attack_key = jax.random.split(key, 3)
    if names:
      x = augment(names, aug_key, x)
    eps_memory, metrics = state.eps, {}
    if method == "iaat":
      if "index" not in batch:
        raise DataError(f"adv.method 'iaat' needs batches with an 'index' (example "
                        f"positions); {config.dataset.name!r} does not provide one")
      eps, eps_memory = select_eps(state, x, y, batch["index"][0], select_key)
      metrics["eps_mean"] = jnp.mean(eps)
    elif method == "pgd":
      eps = jnp.full((x.shape[0],), a.eps, x.dtype)
    if method != "none":
      x = jax.lax.stop_gradient(attack_at(state.net, x, y, eps, attack_key))

    def loss_fn(params):
      logits, stats = logits_fn(state.net, x, True, params)
      ce = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y))
      l2 = sum(jnp.sum(jnp.square(k)) for p, k in
               jax.tree_util.tree_leaves_with_path(params) if "kernel" in str(p[-1]))
      return ce + 0.5 * weight_decay * l2, (ce, logits, stats)

    grads, (ce, logits, stats) = jax.grad(loss_fn, has_aux=True)(state.net.params)
    net = state.net.apply_gradients(grads=grads, batch_stats=stats)
    metrics.update(loss=ce, train_accuracy=jnp.mean(jnp.argmax(logits, -1) == y))
    return state.replace(step=state.step + 1, net=net, eps=eps_memory), metrics

  def eval_metrics(state: ClassifierState, batch: Batch, key: jax.Array) -> Metrics:
    """Held-out clean accuracy and accuracy under PGD-k (attack.eval_steps) at attack.eps."""
    return robust.robust_metrics(
        lambda x: logits_fn(state.net, x, False)[0], batch["x"], batch["y"], key,
        eps=a.eps, norm=a.norm, steps=tuple(a.eval_steps), restarts=a.eval_restarts,
        bounds=bounds)

  def sample(state: ClassifierState, inputs: jax.Array) -> jax.Array:
    """Sample grids: PGD-20 examples at attack.eps against the model's own predictions."""
    return grid.adversarial(lambda x: logits_fn(state.net, x, False)[0], inputs)

  return Trainer(init=init, train_step=train_step, sample=sample, noise=grid.noise,
                 batches_per_step=1, eval_metrics=eval_metrics)
