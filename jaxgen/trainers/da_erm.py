"""Domain-adaptation baselines and the parts every DA trainer shares.

`da_source_only`: ERM on the labelled source (DomainBed's strong baseline).
`da_oracle`: the same networks trained on the target's labels (an upper bound).
Batches come from the `domain_adaptation` dataset (jaxgen/data/domains.py): source
'x', 'y' and target 'x_t' ('y_t' only for the oracle and evaluation). `eval_metrics`
gives the source-validation accuracy (model selection) and the target accuracy.
"""

from __future__ import annotations

from typing import Any, Callable

import flax
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.models.domain_nets import FeatureExtractor, MLPHead
from jaxgen.optim import make_optimizer
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.gan import NetState


@flax.struct.dataclass
class DAState:
  step: jax.Array   # updates done
  nets: dict        # name -> NetState: 'f', 'c' and the method's own ('d', 'g', 'pi')
  key: jax.Array    # base PRNG key; step keys are fold_in(key, step)


def check_dataset(spec: DataSpec) -> None:
  if spec.kind != "image" or spec.num_classes < 2:
    raise ConfigError(f"the domain-adaptation trainers need labelled images "
                      f"(dataset.name='domain_adaptation'), got {spec.name!r}")


def variables(net: NetState, params: Any = None) -> dict:
  out = {"params": net.params if params is None else params}
  if net.batch_stats:
    out["batch_stats"] = net.batch_stats
  return out


def init_net(module: Any, key: jax.Array, inputs: tuple, tx: optax.GradientTransformation,
             **kwargs) -> NetState:
  """A NetState of `module` initialised on example `inputs`."""
  v = module.init(key, *inputs, **kwargs)
  return NetState.create(apply_fn=module.apply, params=v["params"], tx=tx,
                         batch_stats=v.get("batch_stats", {}))


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))


def accuracy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  return jnp.mean((jnp.argmax(logits, -1) == labels).astype(jnp.float32))


class Classifier:
  """F and C of `config.da` for `spec`: init, features and logits."""

  def __init__(self, config: ml_collections.ConfigDict, spec: DataSpec):
    check_dataset(spec)
    self.config, self.spec = config, spec
    self.num_classes = spec.num_classes
    self.f = FeatureExtractor(config.da.width, config.da.feature_dim, config.da.conv_impl)
    self.c = MLPHead(tuple(config.da.classifier_hidden), spec.num_classes)

  def optimizer(self, net: str) -> optax.GradientTransformation:
    return make_optimizer(self.config.optim[net], self.config.train.num_steps)

  def init(self, key: jax.Array) -> dict:
    f_key, c_key = jax.random.split(key)
    x = jnp.zeros((2,) + tuple(self.spec.shape))
    f = init_net(self.f, f_key, (x,), self.optimizer("f"))
    h = self.f.apply({"params": f.params}, x)
    return {"f": f, "c": init_net(self.c, c_key, (h,), self.optimizer("c"))}

  @staticmethod
  def logits(nets: dict, x: jax.Array, params: dict | None = None) -> jax.Array:
    p = params or {}
    h = nets["f"].apply_fn({"params": p.get("f", nets["f"].params)}, x)
    return nets["c"].apply_fn({"params": p.get("c", nets["c"].params)}, h)


def eval_metrics(state: DAState, batch: Batch, key: jax.Array) -> Metrics:
  """Source-validation accuracy from 'x', 'y'; target accuracy from 'x_t', 'y_t' if given."""
  del key
  logits = Classifier.logits(state.nets, batch["x"])
  metrics = {"src_val_acc": accuracy(logits, batch["y"]),
             "src_val_loss": cross_entropy(logits, batch["y"])}
  if "x_t" in batch:
    t_logits = Classifier.logits(state.nets, batch["x_t"])
    metrics.update(target_acc=accuracy(t_logits, batch["y_t"]),
                   target_loss=cross_entropy(t_logits, batch["y_t"]))
  return metrics


def blank_sampler(spec: DataSpec) -> tuple[Callable, Callable]:
  """(noise, sample) for trainers without a generator: the sample grid is blank (grey)."""
  def noise(key: jax.Array, n: int) -> jax.Array:
    del key
    return jnp.zeros((n,))

  def sample(state: DAState, z: jax.Array) -> jax.Array:
    del state
    return jnp.zeros((z.shape[0],) + tuple(spec.shape))
  return noise, sample


def apply_grads(nets: dict, grads: dict) -> dict:
  """Optimizer steps of the nets named in `grads`; the others are kept."""
  return {**nets, **{name: nets[name].apply_gradients(grads=g) for name, g in grads.items()}}


def joint_gradient_step(state: DAState, loss_fn: Callable, names: tuple[str, ...]
                        ) -> tuple[DAState, Metrics]:
  """One optimizer step of the nets `names` on `loss_fn(params) -> (loss, metrics)`."""
  params = {name: state.nets[name].params for name in names}
  grads, metrics = jax.grad(loss_fn, has_aux=True)(params)
  return state.replace(step=state.step + 1, nets=apply_grads(state.nets, grads)), metrics


def classifier_trainer(spec: DataSpec, init: Callable, train_step: Callable,
                       eval_metrics: Callable) -> Trainer:
  """A Trainer of one batch per step whose sample grid is blank (no generator)."""
  noise, sample = blank_sampler(spec)
  return Trainer(init=init, train_step=train_step, sample=sample, noise=noise,
                 batches_per_step=1, eval_metrics=eval_metrics)


def supervised(config: ml_collections.ConfigDict, spec: DataSpec, *, on_target: bool) -> Trainer:
  """ERM of F and C on the source labels (or, for the oracle, the target labels)."""
  model = Classifier(config, spec)
  x_key, y_key = ("x_t", "y_t") if on_target else ("x", "y")

  def init(key: jax.Array) -> DAState:
    net_key, state_key = jax.random.split(key)
    return DAState(step=jnp.zeros((), jnp.int32), nets=model.init(net_key), key=state_key)

  def train_step(state: DAState, batch: Batch) -> tuple[DAState, Metrics]:
    x, y = batch[x_key][0], batch[y_key][0]  # batches_per_step = 1

    def loss_fn(params):
      logits = model.logits(state.nets, x, params)
      return cross_entropy(logits, y), accuracy(logits, y)

    params = {"f": state.nets["f"].params, "c": state.nets["c"].params}
    (loss, acc), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    nets = apply_grads(state.nets, grads)
    return state.replace(step=state.step + 1, nets=nets), {"class_loss": loss, "train_acc": acc}

  return classifier_trainer(spec, init, train_step, eval_metrics)


@TRAINERS.register("da_source_only")
def build_source_only(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """ERM on the labelled source; the target is only evaluated."""
  return supervised(config, spec, on_target=False)


@TRAINERS.register("da_oracle")
def build_oracle(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """F and C trained on the target's labels: the supervised upper bound."""
  return supervised(config, spec, on_target=True)
