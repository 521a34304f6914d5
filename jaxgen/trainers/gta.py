"""Generate To Adapt (Sankaranarayanan, Balaji et al., CVPR 2018): F's embeddings must let
a conditional generator G make source-like images that a two-headed D (real/fake and
class) accepts, for source and target alike.

One step, in the paper's order, from the embeddings and generations made at its start
(F, G at their old params; the reference code's retained graphs):
  D: BCE(D_s(x_s), real) + CE(D_c(x_s), y_s) + BCE(D_s(G_s), fake) + BCE(D_s(G_t), fake)
  G: CE(D_c(G_s), y_s) + BCE(D_s(G_s), real)                       (with the new D)
  C: CE(C(F(x_s)), y_s)                                             (C's old params)
  F: CE(C(F(x_s)), y_s) + a CE(D_c(G_s), y_s) + a alpha BCE(D_s(G_t), real)
     (new D, old C and G; a = da.gta_adv_weight = 0.1, alpha = da.gta_alpha = 0.3)
G_s = G([onehot(y_s), F(x_s), z]) and G_t = G([onehot(K), F(x_t), z']): the target uses
the extra class K. The paper's 1/(1 + 1e-4 t) learning-rate decay of D, F, C is left out.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgen.data import DataSpec
from jaxgen.models.domain_nets import GTADiscriminator, GTAGenerator
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.da_erm import (Classifier, DAState, accuracy, cross_entropy,
                                    eval_metrics, init_net, variables)


def bce(logits: jax.Array, real: bool) -> jax.Array:
  """Mean binary cross-entropy of real/fake logits against all-real or all-fake labels."""
  target = jnp.full_like(logits, 1.0 if real else 0.0)
  return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, target))


def d_loss_terms(real: tuple, fake_s: tuple, fake_t: tuple, ys: jax.Array) -> dict:
  """D's four terms from its (real/fake, class) outputs on x_s, G_s and G_t."""
  return {"d_real": bce(real[0], True), "d_class": cross_entropy(real[1], ys),
          "d_fake_s": bce(fake_s[0], False), "d_fake_t": bce(fake_t[0], False)}


def g_loss_terms(fake_s: tuple, ys: jax.Array) -> dict:
  return {"g_class": cross_entropy(fake_s[1], ys), "g_real": bce(fake_s[0], True)}


def f_loss_terms(logits_s: jax.Array, fake_s: tuple, fake_t: tuple, ys: jax.Array,
                 adv_weight: float, alpha: float) -> dict:
  """F's three weighted terms."""
  return {"f_class": cross_entropy(logits_s, ys),
          "f_src_adv": adv_weight * cross_entropy(fake_s[1], ys),
          "f_tgt_adv": adv_weight * alpha * bce(fake_t[0], True)}


@TRAINERS.register("gta")
def build_gta(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """Generate To Adapt with F, C, G and D (jaxgen/models/domain_nets.py)."""
  model = Classifier(config, spec)
  num_classes, nz = spec.num_classes, config.da.gta_latent_dim
  gen = GTAGenerator(tuple(spec.shape), config.da.gta_g_width, config.da.conv_impl)
  disc = GTADiscriminator(num_classes, config.da.gta_d_width, config.da.conv_impl)
  adv, alpha = config.da.gta_adv_weight, config.da.gta_alpha
  g_in = num_classes + 1 + config.da.feature_dim + nz

  def init(key: jax.Array) -> DAState:
    net_key, g_key, d_key, state_key = jax.random.split(key, 4)
    nets = model.init(net_key)
    nets["g"] = init_net(gen, g_key, (jnp.zeros((2, g_in)),), model.optimizer("g"), train=True)
    x = jnp.zeros((2,) + tuple(spec.shape))
    nets["d"] = init_net(disc, d_key, (x,), model.optimizer("d"), train=True)
    return DAState(step=jnp.zeros((), jnp.int32), nets=nets, key=state_key)

  def run(net, inputs, params=None):
    """A BatchNorm net in training mode: (outputs, updated batch stats)."""
    out, upd = net.apply_fn(variables(net, params), inputs, train=True, mutable=["batch_stats"])
    return out, upd["batch_stats"]

  def features(nets, params, x):
    return nets["f"].apply_fn({"params": params}, x)

  def g_inputs(labels, h, z):
    return jnp.concatenate([jax.nn.one_hot(labels, num_classes + 1), h, z], axis=-1)

  def train_step(state: DAState, batch: Batch) -> tuple[DAState, Metrics]:
    xs, ys, xt = batch["x"][0], batch["y"][0], batch["x_t"][0]
    zs_key, zt_key = jax.random.split(jax.random.fold_in(state.key, state.step))
    zs = jax.random.normal(zs_key, (xs.shape[0], nz))
    zt = jax.random.normal(zt_key, (xt.shape[0], nz))
    yt = jnp.full((xt.shape[0],), num_classes)
    nets = state.nets
    f0, c0, g0 = nets["f"].params, nets["c"].params, nets["g"].params
    hs, ht = features(nets, f0, xs), features(nets, f0, xt)
    gen_s, _ = run(nets["g"], g_inputs(ys, hs, zs))
    gen_t, _ = run(nets["g"], g_inputs(yt, ht, zt))

    # 1. D on real source images and on the generations of source and target embeddings.
    def d_loss(params):
      real, _ = run(nets["d"], xs, params)
      fake_s, _ = run(nets["d"], gen_s, params)
      fake_t, stats = run(nets["d"], gen_t, params)
      terms = d_loss_terms(real, fake_s, fake_t, ys)
      return sum(terms.values()), (terms, stats)
    d_grads, (d_terms, d_stats) = jax.grad(d_loss, has_aux=True)(nets["d"].params)
    d_net = nets["d"].apply_gradients(grads=d_grads, batch_stats=d_stats)
    d1 = d_net.params

    # 2. G against the updated D.
    g_input_s = g_inputs(ys, hs, zs)
    def g_loss(params):
      gs, stats = run(nets["g"], g_input_s, params)
      terms = g_loss_terms(run(d_net, gs, d1)[0], ys)
      return sum(terms.values()), (terms, stats)
    g_grads, (g_terms, g_stats) = jax.grad(g_loss, has_aux=True)(g0)
    g_net = nets["g"].apply_gradients(grads=g_grads, batch_stats=g_stats)

    # 3. C on the source embeddings.
    def c_loss(params):
      logits = nets["c"].apply_fn({"params": params}, hs)
      return cross_entropy(logits, ys), accuracy(logits, ys)
    (c_value, train_acc), c_grads = jax.value_and_grad(c_loss, has_aux=True)(c0)
    c_net = nets["c"].apply_gradients(grads=c_grads)

    # 4. F through C (old), G (old) and D (new).
    def f_loss(params):
      hs_f, ht_f = features(nets, params, xs), features(nets, params, xt)
      logits = nets["c"].apply_fn({"params": c0}, hs_f)
      fake_s = run(d_net, run(nets["g"], g_inputs(ys, hs_f, zs), g0)[0], d1)[0]
      fake_t = run(d_net, run(nets["g"], g_inputs(yt, ht_f, zt), g0)[0], d1)[0]
      terms = f_loss_terms(logits, fake_s, fake_t, ys, adv, alpha)
      return sum(terms.values()), terms
    f_grads, f_terms = jax.grad(f_loss, has_aux=True)(f0)
    f_net = nets["f"].apply_gradients(grads=f_grads)

    new_nets = {**nets, "d": d_net, "g": g_net, "c": c_net, "f": f_net}
    metrics = {**d_terms, **g_terms, **f_terms, "class_loss": c_value, "train_acc": train_acc}
    return state.replace(step=state.step + 1, nets=new_nets), metrics

  def noise(key: jax.Array, n: int) -> jax.Array:
    return jax.random.normal(key, (n, nz))

  def sample(state: DAState, z: jax.Array) -> jax.Array:
    """G in evaluation mode on zero embeddings, labels cycling over the source classes."""
    labels = jnp.arange(z.shape[0]) % num_classes
    h = jnp.zeros((z.shape[0], config.da.feature_dim))
    g = state.nets["g"]
    return g.apply_fn(variables(g), g_inputs(labels, h, z), train=False)

  return Trainer(init=init, train_step=train_step, sample=sample, noise=noise,
                 batches_per_step=1, eval_metrics=eval_metrics)
