"""Maximum-likelihood training of normalizing flows (`trainer: flow`), optionally adversarial.

Bits/dim convention (Dinh et al. 2017; Kingma & Dhariwal 2018): images in [-1, 1] are
first snapped to the grid of `flow.num_bins` levels x_k = k w - 1, w = 2 / (num_bins - 1)
(a no-op for data at native resolution: 8-bit images, or digits' 17 levels 0..16; resized
images are re-quantised), then dequantised y = x + w (u - 1/2), u ~ U[0, 1)^D. The flow's
density p(y) (the log-det of any logit pre-processing included) bounds the discrete
likelihood, -log P(x) <= E_u[-log p(y)] - D log w, reported as
bpd = (E_u[-log p(y)] - D log w) / (D ln 2) (= jaxgen.metrics.bits_per_dim with
data_scale = num_bins w). For 8-bit data this is the usual bits/dim of the papers; for
digits it is bits/dim of 17-level data (at most log2 17 = 4.09 for a uniform model).
2-D point data are continuous (`flow.dequantize='none'`): bpd = -log p(x) / (D ln 2).
`flow.dequantize='variational'` (Flow++) draws u from a learned q(u | x) trained jointly
with the flow (its params under params['dequantizer']) and adds log q(u | x) to the NLL:
the same bound, tighter; the uniform case is log q = 0.

Adversarial training (Pope, Balaji & Feizi 2020): `flow.adversarial = 'pgd'` trains on
the NLL of PGD-perturbed inputs (maximising NLL in an eps-ball), 'hybrid' on
(1 - adv_weight) NLL(x) + adv_weight NLL(x_adv).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
from jax.scipy.stats import norm
import ml_collections

from jaxgen import attacks, data
from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError
from jaxgen.metrics.likelihood import bits_per_dim
from jaxgen.models.flows import VariationalDequantizer, build_flow
from jaxgen.optim import make_optimizer
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.gan import NetState

DEQUANTIZATIONS = ("uniform", "variational", "none")
DEQUANTIZER = "dequantizer"  # key of q(u | x)'s params inside a variational run's params
_U_CLIP = 1e-6  # u in [_U_CLIP, 1 - _U_CLIP] before the inverse normal CDF
PREPROCESSINGS = ("none", "logit")
ADVERSARIAL = ("", "pgd", "hybrid")


@flax.struct.dataclass
class FlowState:
  step: jax.Array   # updates done
  net: NetState     # the flow's params and optimizer state
  key: jax.Array    # base PRNG key; step keys are fold_in(key, step)


class Preprocessing(NamedTuple):
  """Data x in [-1, 1] <-> flow input, with the log-det of the map counted."""
  num_bins: int
  dequantize: bool
  logit: bool
  alpha: float

  @property
  def bin_width(self) -> float:
    return 2.0 / (self.num_bins - 1)

  @property
  def low(self) -> float:  # lower end of the dequantised range
    return -1.0 - 0.5 * self.bin_width

  @property
  def span(self) -> float:  # its width num_bins * w = `data_scale` of bits_per_dim
    return self.num_bins * self.bin_width

  def quantize(self, x: jax.Array) -> jax.Array:
    """Snaps x to the grid of num_bins levels in [-1, 1] (a no-op on 8-bit data)."""
    if not self.dequantize:
      return x
    w = self.bin_width
    return jnp.clip(jnp.round((x + 1.0) / w), 0, self.num_bins - 1) * w - 1.0

  def forward(self, x: jax.Array, u: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(flow input, log-det per example) of x dequantised with noise u ~ U[0, 1)."""
    if not self.dequantize:
      return x, jnp.zeros(x.shape[:1])
    y = x + self.bin_width * (u - 0.5)
    if not self.logit:
      return y, jnp.zeros(x.shape[:1])
    # Real NVP's logit(alpha + (1 - 2 alpha) s), s = (y - low) / span in (0, 1).
    p = self.alpha + (1 - 2 * self.alpha) * (y - self.low) / self.span
    l = jnp.log(p) - jnp.log1p(-p)
    ld = math.log((1 - 2 * self.alpha) / self.span) - jnp.log(p) - jnp.log1p(-p)
    return l, jnp.sum(ld.reshape(x.shape[0], -1), axis=-1)

  def inverse(self, l: jax.Array) -> jax.Array:
    """Flow input -> data scale (no clipping)."""
    if not (self.dequantize and self.logit):
      return l
    s = (jax.nn.sigmoid(l) - self.alpha) / (1 - 2 * self.alpha)
    return self.low + s * self.span

  def bpd(self, nll: jax.Array, num_dims: int) -> jax.Array:
    """Bits/dim of the discrete data from the NLL (nats) of the dequantised y."""
    scale = self.span if self.dequantize else None
    return bits_per_dim(nll, num_dims, data_scale=scale, num_bins=self.num_bins)


class Flow(NamedTuple):
  """The trainer plus the pieces attacks and experiments use.

  nll(params, x, u) -> [B] nats of data x (not re-quantised) with dequantisation noise u;
  bpd(nll) -> bits/dim; reconstruct(state, x) -> inverse(forward(x)) in data space;
  forward(params, y) -> (z, logdet) of the flow on pre-processed inputs.
  """
  trainer: Trainer
  nll: Callable[..., jax.Array]
  bpd: Callable[[jax.Array], jax.Array]
  reconstruct: Callable[[FlowState, jax.Array], jax.Array]
  forward: Callable[..., tuple[jax.Array, jax.Array]]
  preprocessing: Preprocessing
  bounds: tuple[float, float] | None


def _check(config: ml_collections.ConfigDict, spec: DataSpec) -> None:
  f = config.flow
  for field, allowed in (("dequantize", DEQUANTIZATIONS), ("preprocess", PREPROCESSINGS),
                         ("adversarial", ADVERSARIAL), ("adv_norm", attacks.NORMS)):
    if f[field] not in allowed:
      raise ConfigError(f"unknown flow.{field} {f[field]!r}; choose one of: "
                        f"{', '.join(repr(a) for a in allowed)}")
  if f.num_bins < 2:
    raise ConfigError(f"flow.num_bins must be >= 2, got {f.num_bins}")
  if f.preprocess == "logit" and f.dequantize == "none":
    raise ConfigError("flow.preprocess='logit' needs flow.dequantize='uniform' (bounded data)")
  if spec.kind == "points" and f.dequantize != "none":
    raise ConfigError(f"flow.dequantize must be 'none' for point data {spec.name!r}")
  if not 0.0 <= f.adv_weight <= 1.0:
    raise ConfigError(f"flow.adv_weight must be in [0, 1], got {f.adv_weight}")


def flow(config: ml_collections.ConfigDict, spec: DataSpec) -> Flow:
  """The flow `config.flow.model` trained by maximum likelihood (config.flow) on `spec`."""
  _check(config, spec)
  f = config.flow
  model = build_flow(f, spec)
  pre = Preprocessing(f.num_bins, f.dequantize != "none", f.preprocess == "logit",
                      f.logit_alpha)
  dequantizer = (VariationalDequantizer(f.dequant_width, f.dequant_steps, f.conv_impl)
                 if f.dequantize == "variational" else None)
  num_dims = math.prod(spec.shape)
  bounds = (-1.0, 1.0) if spec.kind == "image" else None

  def flow_params(params):
    return {k: v for k, v in params.items() if k != DEQUANTIZER}

  def forward(params, y):
    return model.apply({"params": flow_params(params)}, y, method=model.forward)

  def dequantization_noise(params, x: jax.Array, u: jax.Array):
    """(noise in (0, 1)^D, log q(u | x)): u itself (uniform), or q's sample driven by u."""
    if dequantizer is None:
      return u, jnp.zeros(x.shape[:1])
    e = jax.scipy.special.ndtri(jnp.clip(u, _U_CLIP, 1 - _U_CLIP))  # u ~ U -> e ~ N(0, I)
    return dequantizer.apply({"params": params[DEQUANTIZER]}, x, e)

  def nll(params, x: jax.Array, u: jax.Array) -> jax.Array:
    """-log p(y) + log q(u | x) in nats per example, y the dequantised x (pre-processing
    log-det included; log q = 0 unless variational); u ~ U[0, 1)^D drives the noise."""
    u, log_q = dequantization_noise(params, x, u)
    y, ld_pre = pre.forward(x, u)
    z, ld = forward(params, y)
    log_pz = jnp.sum(norm.logpdf(z), axis=-1)
    return log_q - (log_pz + ld + ld_pre)

  def bpd(nats: jax.Array) -> jax.Array:
    return pre.bpd(nats, num_dims)

  def init(key: jax.Array) -> FlowState:
    """Params with actnorm initialised on the first training batch (data-dependent init)."""
    init_key, u_key, state_key = jax.random.split(key, 3)
    first = next(dataset.batches(config.train.batch_size, seed=config.seed))["x"]
    x = pre.quantize(jnp.asarray(first))
    y, _ = pre.forward(x, jax.random.uniform(u_key, x.shape))
    params = dict(model.init(init_key, y, method=model.forward)["params"])
    if dequantizer is not None:
      q_key = jax.random.fold_in(u_key, 1)
      params[DEQUANTIZER] = dequantizer.init(q_key, x, jnp.zeros(x.shape))["params"]
    net = NetState.create(apply_fn=model.apply, params=params,
                          tx=make_optimizer(config.optim.flow, config.train.num_steps))
    return FlowState(step=jnp.zeros((), jnp.int32), net=net, key=state_key)

  def adversarial_inputs(params, x: jax.Array, u: jax.Array, key: jax.Array) -> jax.Array:
    """PGD maximising the NLL (params fixed) in the flow.adv_eps ball around x."""
    frozen = jax.lax.stop_gradient(params)
    x_adv = attacks.pgd(lambda v: nll(frozen, v, u), x, f.adv_eps, key, norm=f.adv_norm,
                        steps=f.adv_steps, bounds=bounds)
    return jax.lax.stop_gradient(x_adv)

  def train_step(state: FlowState, batch: Batch) -> tuple[FlowState, Metrics]:
    x = pre.quantize(batch["x"][0])  # batches_per_step = 1
    key = jax.random.fold_in(state.key, state.step)
    u_key, adv_key = jax.random.split(key)
    u = jax.random.uniform(u_key, x.shape)
    x_adv = (adversarial_inputs(state.net.params, x, u, adv_key) if f.adversarial else None)

    def loss_fn(params):
      clean = nll(params, x, u)
      metrics = {"nll": jnp.mean(clean), "bpd": jnp.mean(bpd(clean))}
      if x_adv is None:
        return metrics["nll"], metrics
      adv = nll(params, x_adv, u)
      metrics["adv_bpd"] = jnp.mean(bpd(adv))
      weight = 1.0 if f.adversarial == "pgd" else f.adv_weight
      loss = (1 - weight) * metrics["nll"] + weight * jnp.mean(adv)
      return loss, metrics

    grads, metrics = jax.grad(loss_fn, has_aux=True)(state.net.params)
    net = state.net.apply_gradients(grads=grads)
    return state.replace(step=state.step + 1, net=net), metrics

  def eval_metrics(state: FlowState, batch: Batch, key: jax.Array) -> Metrics:
    """Held-out NLL (nats per example, dequantised) and bits/dim of a batch."""
    x = pre.quantize(batch["x"])
    nats = nll(state.net.params, x, jax.random.uniform(key, x.shape))
    return {"nll": jnp.mean(nats), "bpd": jnp.mean(bpd(nats))}

  def noise(key: jax.Array, n: int) -> jax.Array:
    """Latents N(0, T^2 I) with T = flow.temperature (Glow's reduced-temperature samples)."""
    return f.temperature * jax.random.normal(key, (n, num_dims))

  def sample(state: FlowState, z: jax.Array) -> jax.Array:
    y = model.apply({"params": flow_params(state.net.params)}, z, method=model.inverse)
    x = pre.inverse(y)
    return jnp.clip(x, -1.0, 1.0) if bounds else x

  def reconstruct(state: FlowState, x: jax.Array) -> jax.Array:
    """inverse(forward(x)) through the flow without noise: x up to float error."""
    y, _ = pre.forward(x, jnp.full(x.shape, 0.5))
    z, _ = forward(state.net.params, y)
    return pre.inverse(model.apply({"params": flow_params(state.net.params)}, z,
                                   method=model.inverse))

  dataset = data.get_dataset(config.dataset)
  trainer = Trainer(init=init, train_step=train_step, sample=sample, noise=noise,
                    batches_per_step=1, eval_metrics=eval_metrics)
  return Flow(trainer=trainer, nll=nll, bpd=bpd, reconstruct=reconstruct, forward=forward,
              preprocessing=pre, bounds=bounds)


@TRAINERS.register("flow")
def build_flow_trainer(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """A normalizing flow trained by (optionally adversarial) maximum likelihood."""
  return flow(config, spec).trainer
