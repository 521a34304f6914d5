"""Adversarial training: `n_critic` discriminator updates, then one generator update.

The whole update is one pure function of (state, batch); its randomness comes from
`fold_in(state.key, state.step)`, so a run is a deterministic function of the seed.
"""

from __future__ import annotations

from typing import Any

import flax
import jax
import jax.numpy as jnp
import ml_collections
import optax
from flax.training import train_state

from jaxgen import augment, losses
from jaxgen.data import DataSpec
from jaxgen.models import build_gan
from jaxgen.optim import make_optimizer
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer


class NetState(train_state.TrainState):
  """One network's params, optimizer state and (possibly empty) BatchNorm statistics."""
  batch_stats: Any = flax.core.FrozenDict()


@flax.struct.dataclass
class GANState:
  step: jax.Array   # generator updates done
  g: NetState
  d: NetState
  key: jax.Array    # base PRNG key; step keys are fold_in(key, step)
  g_ema: Any = flax.core.FrozenDict()  # EMA of G's params ({} when train.ema_decay = 0)
  ada: Any = flax.core.FrozenDict()  # augment.ada.AdaState ({} when train.ada_target = 0)


def _variables(net: NetState, params=None) -> dict:
  variables = {"params": net.params if params is None else params}
  if net.batch_stats:
    variables["batch_stats"] = net.batch_stats
  return variables


def _apply(net: NetState, x: jax.Array, y: jax.Array, params=None):
  """Runs a network in training mode; returns (output, updated batch stats)."""
  out, updates = net.apply_fn(_variables(net, params), x, y, train=True,
                              mutable=["batch_stats"])
  return out, updates.get("batch_stats", net.batch_stats)


def split_logits(out: Any) -> tuple[jax.Array, jax.Array | None]:
  """D's output as (real/fake logits [B], class logits [B, K] or None).

  AC-GAN and ADC-GAN discriminators return both; the others only the logits.
  """
  if isinstance(out, (tuple, list)):
    return out[0], out[1]
  return out, None


def _cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))


def d_class_loss(cond: str, num_classes: int, cls_real: jax.Array, cls_fake: jax.Array,
                 y_real: jax.Array, y_fake: jax.Array) -> jax.Array:
  """D's auxiliary classifier term.

  AC-GAN (Odena et al. 2017): class cross-entropy on real and generated examples.
  ADC-GAN (Hou et al. 2022, eq. 6): 2K classes, k for real and K+k for generated class k.
  """
  fake_labels = y_fake + num_classes if cond == "adcgan" else y_fake
  return _cross_entropy(cls_real, y_real) + _cross_entropy(cls_fake, fake_labels)


def g_class_loss(cond: str, num_classes: int, cls_fake: jax.Array,
                 y_fake: jax.Array) -> jax.Array:
  """G's auxiliary classifier term.

  AC-GAN: samples should be classified as their class. ADC-GAN (eq. 7): as real class k
  and not as generated class k.
  """
  value = _cross_entropy(cls_fake, y_fake)
  if cond == "adcgan":
    value = value - _cross_entropy(cls_fake, y_fake + num_classes)
  return value


def parse_penalties(config: ml_collections.ConfigDict,
                    loss: losses.GANLoss) -> tuple[list, Any]:
  """The D penalties named by `loss.penalty` ('r1,r2' = several) and their weight."""
  name = config.loss.penalty
  name = loss.default_penalty if name == "auto" else name
  penalties = [(n.strip(), losses.get_penalty(n.strip()))
               for n in name.split(",") if n.strip()]
  weight = config.loss.penalty_weight
  # Negative = the loss's own default (10 for WGAN-GP). A sweep passes a traced value.
  if isinstance(weight, (int, float)) and weight < 0:
    weight = loss.default_penalty_weight if loss.default_penalty else 10.0
  return penalties, weight


def penalty_terms(penalties: list, d_logits, x_real: jax.Array, y_real: jax.Array,
                  fake: jax.Array, y_fake: jax.Array, paired_fake: jax.Array,
                  key: jax.Array) -> dict[str, jax.Array]:
  """Each D penalty of `penalties` at its own points, with those points' own labels.

  `d_logits(x, y) -> logits [B]`. R1/DRAGAN see (x_real, y_real), R2 (fake, y_fake);
  GP/GP0 interpolate x_real with `paired_fake`, generated with y_real, so every
  interpolate has one class (Lipschitz in x for each class of a conditional critic).
  """
  terms = {}
  for (name, penalty), k in zip(penalties, jax.random.split(key, len(penalties))):
    labels = losses.penalty_labels(name, y_real, y_fake)
    partner = paired_fake if losses.PENALTY_POINTS[name] == "interpolates" else fake
    terms[name] = penalty(lambda x, labels=labels: d_logits(x, labels), x_real, partner, k)
  return terms


@TRAINERS.register("gan")
def build(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """A GAN trainer for `config.model` / `config.loss` / `config.optim` on data `spec`."""
  models = build_gan(config.model, spec, config.train.compute_dtype)
  loss = losses.get_loss(config.loss.name)
  penalties, penalty_weight = parse_penalties(config, loss)
  clip = config.loss.clip_d_weights
  cond = config.model.cond
  cls_weight = config.loss.cls_weight
  ortho_weight = config.loss.g_ortho_weight
  if ortho_weight:
    from jaxgen.losses import orthogonal  # pylint: disable=import-outside-toplevel
  policy = augment.parse_policy(config.train.diffaug)
  ada_on = config.train.ada_target > 0
  ada_ops = augment.ada.parse_pipeline(config.train.ada_pipeline) if ada_on else ()
  ema_decay = config.train.ema_decay
  ema_start = config.train.ema_start
  n_critic = config.train.n_critic
  num_steps = config.train.num_steps
  latent_dim = models.latent_dim
  num_classes = spec.num_classes
  # Only 'concat' and 'projection' discriminators read the label of their input.
  interpolates_need_labels = cond in ("concat", "projection") and any(
      losses.PENALTY_POINTS[name] == "interpolates" for name, _ in penalties)

  def noise(key: jax.Array, n: int) -> jax.Array:
    return jax.random.normal(key, (n, latent_dim))

  def init(key: jax.Array) -> GANState:
    g_key, d_key, state_key = jax.random.split(key, 3)
    z = jnp.zeros((2, latent_dim))
    y = jnp.zeros((2,), jnp.int32)
    g_vars = models.generator.init(g_key, z, y, train=True)
    x = jnp.zeros((2,) + tuple(spec.shape))
    d_vars = models.discriminator.init(d_key, x, y, train=True)
    g = NetState.create(apply_fn=models.generator.apply, params=g_vars["params"],
                        tx=make_optimizer(config.optim.g, num_steps),
                        batch_stats=g_vars.get("batch_stats", {}))
    d = NetState.create(apply_fn=models.discriminator.apply, params=d_vars["params"],
                        tx=make_optimizer(config.optim.d, num_steps * n_critic),
                        batch_stats=d_vars.get("batch_stats", {}))
    # A copy: the train loop donates the state, and a buffer cannot be donated twice.
    g_ema = jax.tree.map(jnp.copy, g.params) if ema_decay else flax.core.FrozenDict()
    ada = augment.ada.init_state(config.train.ada_p_init) if ada_on else flax.core.FrozenDict()
    return GANState(step=jnp.zeros((), jnp.int32), g=g, d=d, key=state_key, g_ema=g_ema,
                    ada=ada)

  def fake_labels(key: jax.Array, n: int) -> jax.Array:
    return jax.random.randint(key, (n,), 0, max(num_classes, 1))

  def d_input(key: jax.Array, x: jax.Array, p: jax.Array | None) -> jax.Array:
    """What D sees: x, ADA-augmented with probability p when `train.ada_target` > 0,
    then DiffAugment-ed when `train.diffaug` names a policy."""
    if ada_on:
      x = augment.ada.augment(jax.random.fold_in(key, 1), x, p, ada_ops)
    return augment.diff_augment(policy, key, x) if policy else x

  def d_update(g: NetState, d: NetState, x_real: jax.Array, y_real: jax.Array,
               key: jax.Array, p: jax.Array | None):
    """One D step; returns (d, metrics, D's real logits or None when ADA is off)."""
    z_key, y_key, p_key, a_key, b_key, pz_key, pa_key = jax.random.split(key, 7)
    n = x_real.shape[0]
    y_fake = fake_labels(y_key, n)
    fake, _ = _apply(g, noise(z_key, n), y_fake)
    fake = jax.lax.stop_gradient(fake)
    x_real, fake = d_input(a_key, x_real, p), d_input(b_key, fake, p)
    paired_fake = fake
    if interpolates_need_labels:
      # D sees the label: interpolate each real example with a fake of its own class.
      paired_fake, _ = _apply(g, noise(pz_key, n), y_real)
      paired_fake = d_input(pa_key, jax.lax.stop_gradient(paired_fake), p)

    def loss_fn(params):
      real_out, stats = _apply(d, x_real, y_real, params)
      d_after_real = d.replace(batch_stats=stats)
      fake_out, stats = _apply(d_after_real, fake, y_fake, params)
      (real_logits, cls_real), (fake_logits, cls_fake) = (split_logits(real_out),
                                                          split_logits(fake_out))
      value = loss.d_loss(real_logits, fake_logits)
      metrics = {"d_loss": value, "d_real": jnp.mean(real_logits),
                 "d_fake": jnp.mean(fake_logits)}
      if cond in ("acgan", "adcgan"):
        cls_term = d_class_loss(cond, num_classes, cls_real, cls_fake, y_real, y_fake)
        value = value + cls_weight * cls_term
        metrics["d_cls"] = cls_term
      d_logits = lambda x, y: split_logits(_apply(d_after_real, x, y, params)[0])[0]
      for name, reg in penalty_terms(penalties, d_logits, x_real, y_real, fake, y_fake,
                                     paired_fake, p_key).items():
        value = value + penalty_weight * reg
        metrics[f"d_{name}"] = reg
      return value, (stats, metrics, real_logits if ada_on else None)

    grads, (stats, metrics, real_logits) = jax.grad(loss_fn, has_aux=True)(d.params)
    d = d.apply_gradients(grads=grads, batch_stats=stats)
    if clip:  # WGAN (Arjovsky et al. 2017) keeps the critic Lipschitz by weight clipping.
      d = d.replace(params=jax.tree.map(lambda w: jnp.clip(w, -clip, clip), d.params))
    return d, metrics, real_logits

  def g_update(g: NetState, d: NetState, n: int, key: jax.Array,
               p: jax.Array | None) -> tuple[NetState, Metrics]:
    z_key, y_key, a_key = jax.random.split(key, 3)
    z, y = noise(z_key, n), fake_labels(y_key, n)

    def loss_fn(params):
      fake, stats = _apply(g, z, y, params)
      fake_logits, cls_fake = split_logits(_apply(d, d_input(a_key, fake, p), y)[0])
      value = loss.g_loss(fake_logits)
      metrics = {"g_loss": value}
      if cond in ("acgan", "adcgan"):
        cls_term = g_class_loss(cond, num_classes, cls_fake, y)
        value = value + cls_weight * cls_term
        metrics["g_cls"] = cls_term
      if ortho_weight:  # BigGAN (Brock et al. 2019, sec. 3.1) orthogonal regularisation.
        reg = orthogonal.orthogonal_regularization(params)
        value = value + ortho_weight * reg
        metrics["g_ortho"] = reg
      return value, (stats, metrics)

    (_, (stats, metrics)), grads = jax.value_and_grad(loss_fn, has_aux=True)(g.params)
    return g.apply_gradients(grads=grads, batch_stats=stats), metrics

  def update_ema(step: jax.Array, ema: Any, params: Any) -> Any:
    """EMA of G's weights (Yazici et al. 2019), a copy of them before `ema_start`."""
    decay = jnp.where(step >= ema_start, ema_decay, 0.0)
    return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)

  def train_step(state: GANState, batch: Batch) -> tuple[GANState, Metrics]:
    keys = jax.random.split(jax.random.fold_in(state.key, state.step), n_critic + 1)

    p = state.ada.p if ada_on else None  # ADA's augmentation probability

    def critic_step(d, inputs):
      x, y, key = inputs
      d, metrics, real_logits = d_update(state.g, d, x, y, key, p)
      return d, (metrics, real_logits)

    d, (d_metrics, real_logits) = jax.lax.scan(critic_step, state.d,
                                               (batch["x"], batch["y"], keys[:-1]))
    g, g_metrics = g_update(state.g, d, batch["x"].shape[1], keys[-1], p)
    metrics = {**jax.tree.map(jnp.mean, d_metrics), **g_metrics}
    g_ema = update_ema(state.step, state.g_ema, g.params) if ema_decay else state.g_ema
    ada = state.ada
    if ada_on:  # the controller sees D's logits of every real batch of this step
      ada = augment.ada.update(state.ada, real_logits, config)
      metrics.update(ada_p=ada.p, ada_rt=ada.r_t)
    return state.replace(step=state.step + 1, g=g, d=d, g_ema=g_ema, ada=ada), metrics

  def sample(state: GANState, z: jax.Array) -> jax.Array:
    """Generator output in evaluation mode (BatchNorm running statistics, EMA weights).

    Labels cycle through the classes, so a grid of a conditional model shows each class.
    """
    y = jnp.arange(z.shape[0]) % max(num_classes, 1)
    params = state.g_ema if ema_decay else None
    return state.g.apply_fn(_variables(state.g, params), z, y, train=False)

  return Trainer(init=init, train_step=train_step, sample=sample, noise=noise,
                 batches_per_step=n_critic)
