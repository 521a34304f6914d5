"""LSD-seg (Sankaranarayanan et al., "Learning from synthetic data: addressing domain
shift for semantic segmentation", CVPR 2018): F's embeddings of source and target images
must let G generate images that a patch discriminator D takes for the other domain's real
images, with the source pixel classes intact.

D's patch labels: 0 source real, 1 source fake (G_s), 2 target real, 3 target fake (G_t);
CE4 is the 4-way patch cross-entropy, CE_D the per-patch class cross-entropy against the
source labels resized (nearest) to D's output grid. One step, from the features and
generations made at its start (the reference code's retained graphs), in its order:
  D: CE4(D(x_s), 0) + CE4(D(G_s), 1) + CE4(D(x_t), 2) + CE4(D(G_t), 3) + CE_D(D(x_s), y_s)
  G: CE_D(D(G_s), y_s) + g_adv (CE4(D(G_s), 0) + CE4(D(G_t), 2))
     + l1 (|G_s - x_s| + |G_t - x_t|)                                    (with the new D)
  F: CE(C(F(x_s)), y_s) + adv (CE4(D(G_s), 2) + CE4(D(G_t), 0)) + c CE_D(D(G_s), y_s)
     (new D, old G; F and C are one network, the reference's FCN)
G_s = G(F(x_s)), G_t = G(F(x_t)); weights g_adv = adv = c = 0.1 and l1 = 1 as the
reference code. Losses are means over pixels and patches (the reference sums the
cross-entropies over pixels but averages the L1, so its L1 term weighs far less).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections

from jaxgen.data import DataSpec
from jaxgen.models.segmentation import PatchDiscriminator, SegGenerator
from jaxgen.trainers.base import TRAINERS, Batch, Metrics, Trainer
from jaxgen.trainers.da_erm import DAState, apply_grads, classifier_trainer, cross_entropy, init_net
from jaxgen.trainers.seg_source_only import SegModel, eval_metrics, pixel_labels, segment

SOURCE_REAL, SOURCE_FAKE, TARGET_REAL, TARGET_FAKE = 0, 1, 2, 3


def resize_labels(labels: jax.Array, height: int, width: int) -> jax.Array:
  """Nearest-neighbour resize of label maps [B, H, W] (pixel centres, as PIL's NEAREST)."""
  rows = ((jnp.arange(height) + 0.5) * labels.shape[1] / height).astype(jnp.int32)
  cols = ((jnp.arange(width) + 0.5) * labels.shape[2] / width).astype(jnp.int32)
  return labels[:, rows][:, :, cols]


def domain_ce(logits: jax.Array, domain: int) -> jax.Array:
  """Mean 4-way patch cross-entropy of D's domain logits against one domain label."""
  return cross_entropy(logits, jnp.full(logits.shape[:-1], domain, jnp.int32))


def d_loss_terms(src_real, src_fake, tgt_real, tgt_fake, labels_d) -> dict:
  """D's five terms from its (domain, class) outputs on x_s, G_s, x_t, G_t."""
  return {"d_src_real": domain_ce(src_real[0], SOURCE_REAL),
          "d_src_fake": domain_ce(src_fake[0], SOURCE_FAKE),
          "d_tgt_real": domain_ce(tgt_real[0], TARGET_REAL),
          "d_tgt_fake": domain_ce(tgt_fake[0], TARGET_FAKE),
          "d_class": cross_entropy(src_real[1], labels_d)}


def g_loss_terms(fake_s, fake_t, gen_s, gen_t, xs, xt, labels_d, g_adv: float,
                 l1: float) -> dict:
  """G's three weighted terms."""
  return {"g_class": cross_entropy(fake_s[1], labels_d),
          "g_adv": g_adv * (domain_ce(fake_s[0], SOURCE_REAL)
                            + domain_ce(fake_t[0], TARGET_REAL)),
          "g_l1": l1 * (jnp.mean(jnp.abs(gen_s - xs)) + jnp.mean(jnp.abs(gen_t - xt)))}


def f_loss_terms(logits_s, ys, fake_s, fake_t, labels_d, adv: float, c: float) -> dict:
  """F's three weighted terms: segmentation, swapped-domain adversarial, D's classes."""
  return {"seg_loss": cross_entropy(logits_s, ys),
          "f_adv": adv * (domain_ce(fake_s[0], TARGET_REAL) + domain_ce(fake_t[0], SOURCE_REAL)),
          "f_class": c * cross_entropy(fake_s[1], labels_d)}


@TRAINERS.register("lsd_seg")
def build_lsd_seg(config: ml_collections.ConfigDict, spec: DataSpec) -> Trainer:
  """LSD-seg with the segmenter F/C, G and D of jaxgen/models/segmentation.py."""
  model = SegModel(config, spec)
  cfg = config.segmentation
  gen = SegGenerator(cfg.g_width, spec.shape[-1], cfg.conv_impl)
  disc = PatchDiscriminator(spec.num_classes, cfg.d_width, cfg.conv_impl)

  def init(key: jax.Array) -> DAState:
    net_key, g_key, d_key, state_key = jax.random.split(key, 4)
    nets = model.init(net_key)
    x = jnp.zeros((2,) + tuple(spec.shape))
    features = segment(nets, x)[1][1:]
    nets["g"] = init_net(gen, g_key, (features,), model.optimizer("g"))
    nets["d"] = init_net(disc, d_key, (x,), model.optimizer("d"))
    return DAState(step=jnp.zeros((), jnp.int32), nets=nets, key=state_key)

  def generate(nets, params, features):
    return nets["g"].apply_fn({"params": params}, features[1:])  # f1, f2, f3

  def discriminate(nets, params, x):
    return nets["d"].apply_fn({"params": params}, x)

  def train_step(state: DAState, batch: Batch) -> tuple[DAState, Metrics]:
    xs, xt = batch["x"][0], batch["x_t"][0]  # batches_per_step = 1
    nets = state.nets
    f0, g0, d0 = nets["f"].params, nets["g"].params, nets["d"].params
    logits_s, feats_s = segment(nets, xs, f0)
    feats_t = segment(nets, xt, f0)[1]
    ys = pixel_labels(batch["y"][0], logits_s)
    gen_s, gen_t = generate(nets, g0, feats_s), generate(nets, g0, feats_t)
    d_shape = discriminate(nets, d0, xs)[0].shape
    labels_d = resize_labels(ys, d_shape[1], d_shape[2])

    # 1. D on real source and target images and on both domains' generations.
    def d_loss(params):
      out = [discriminate(nets, params, x) for x in (xs, gen_s, xt, gen_t)]
      terms = d_loss_terms(*out, labels_d)
      return sum(terms.values()), terms
    d_grads, d_terms = jax.grad(d_loss, has_aux=True)(d0)
    d_net = nets["d"].apply_gradients(grads=d_grads)
    d1 = d_net.params

    # 2. G against the updated D.
    def g_loss(params):
      gs, gt = generate(nets, params, feats_s), generate(nets, params, feats_t)
      fake_s, fake_t = discriminate(nets, d1, gs), discriminate(nets, d1, gt)
      terms = g_loss_terms(fake_s, fake_t, gs, gt, xs, xt, labels_d, cfg.g_adv_weight,
                           cfg.l1_weight)
      return sum(terms.values()), terms
    g_grads, g_terms = jax.grad(g_loss, has_aux=True)(g0)

    # 3. F (with C) through the old G and the new D.
    def f_loss(params):
      logits, fs = segment(nets, xs, params)
      ft = segment(nets, xt, params)[1]
      fake_s = discriminate(nets, d1, generate(nets, g0, fs))
      fake_t = discriminate(nets, d1, generate(nets, g0, ft))
      terms = f_loss_terms(logits, ys, fake_s, fake_t, labels_d, cfg.adv_weight,
                           cfg.c_weight)
      return sum(terms.values()), terms
    f_grads, f_terms = jax.grad(f_loss, has_aux=True)(f0)

    new_nets = {**apply_grads(nets, {"g": g_grads, "f": f_grads}), "d": d_net}
    metrics = {**d_terms, **g_terms, **f_terms}
    return state.replace(step=state.step + 1, nets=new_nets), metrics

  return classifier_trainer(spec, init, train_step, eval_metrics)
