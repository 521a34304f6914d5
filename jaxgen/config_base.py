"""The base config every file in `configs/` starts from: every field, with its meaning.

Range and choice rules sit next to each block (`rules(...)`, checked with the types of
these defaults by jaxgen/config_check.py before anything is built).
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, Callable

import ml_collections

from jaxgen import config_rules as r

# Dotted field path (fnmatch pattern) -> config_rules.Rule; filled by rules() below.
RULES: dict[str, r.Rule] = {}


def rules(block: str, **fields: r.Rule) -> None:
  """Declares the allowed values of `<block>.<field>` (block may be a pattern: 'optim.*')."""
  RULES.update({f"{block}.{name}" if block else name: rule for name, rule in fields.items()})


def optimizer(lr: float = 2e-4, b1: float = 0.5, b2: float = 0.999,
              name: str = "adam") -> ml_collections.ConfigDict:
  """One network's optimizer block (see jaxgen/optim.py for names and schedules)."""
  return ml_collections.ConfigDict(dict(
      name=name,            # adam | adamw | rmsprop | sgd
      lr=lr,                # peak learning rate
      b1=b1, b2=b2,         # Adam betas (DCGAN: 0.5, 0.999)
      schedule="constant",  # constant | linear (decay to 0) | cosine
      warmup_steps=0,       # for the cosine schedule
      grad_clip=0.0,        # global-norm clipping; 0 = off
      bn_l1=0.0,            # L1 strength on BatchNorm scales (network slimming); 0 = off
      masked=False,         # keep pruned weights at 0 (jaxgen/pruning: mask in opt state)
      eps=1e-8,             # adam | adamw | rmsprop: epsilon
      weight_decay=1e-4,    # adamw: decoupled weight decay
      decay=0.99,           # rmsprop: decay of the squared-gradient average
      momentum=0.0,         # sgd: momentum; 0 = plain SGD
  ))


rules("optim.*", name=r.registered("jaxgen.optim:OPTIMIZERS"),
      schedule=r.registered("jaxgen.optim:SCHEDULES"), lr=r.non_negative(),
      b1=r.in_range(0.0, 1.0, open_high=True), b2=r.in_range(0.0, 1.0, open_high=True),
      warmup_steps=r.non_negative(), grad_clip=r.non_negative(), bn_l1=r.non_negative(),
      eps=r.positive(), weight_decay=r.non_negative(),
      decay=r.in_range(0.0, 1.0, open_high=True),
      momentum=r.in_range(0.0, 1.0, open_high=True))


def pruning(rounds: int = 5, scope: str = "both",
            method: str = "imp") -> ml_collections.ConfigDict:
  """The lottery-ticket block `config.pruning` (jaxgen/pruning; IMP: jaxgen/pruning/imp.py).

  Pruned nets need `optim.<net>.masked = True`, which keeps the mask in the optimizer state.
  """
  return ml_collections.ConfigDict(dict(
      rounds=rounds,          # pruning rounds after the dense round 0; sparsity at round k
                              # is 1 - (1 - fraction)^k
      fraction=0.2,           # share of the remaining weights pruned per round (paper: 0.2)
      scope=scope,            # nets pruned: g | d | both (AE/VAE: g | enc | both; flow: both)
      method=method,          # imp | random (IMP's per-layer counts, random weights) |
                              # reinit (IMP's masks, another init) | snip | grasp (at init) |
                              # transfer (pruning.reference's masks of the scoped nets, e.g.
                              # a GAN's g as a VAE decoder, at this run's rewind point)
      reference="",           # random / reinit / transfer: workdir of the run whose masks
                              # they reuse
      layerwise=False,        # rank weights per layer instead of globally (paper: global)
      prunable="kernels",     # kernels | kernels_and_norms: which leaves may be pruned
      exclude="",             # comma-separated regexes of 'net/layer' paths kept dense
      rewind_step=0,          # rewind point: 0 = init (classic LTH); k > 0 = step k (late)
      reset_optimizer=True,   # fresh optimizer after rewinding; False = step k's, masked
      saliency_batch=256,     # examples in the SNIP / GraSP loss batch
      metric="",              # headline of imp.jsonl's plot: any evaluated name (nelbo,
                              # mse, fid_digits...); '' = eval.best_metric / FID-<dataset>,
                              # without a feature net a VAE's nelbo, an AE's mse
      quality="eval",         # per-round metrics: eval = jaxgen.evaluate with config.eval
                              # (FID-<dataset> ...) | pixels = Fréchet distance of raw pixels
      pixel_samples=1000,     # samples for quality='pixels'
  ))


rules("pruning", rounds=r.non_negative(), fraction=r.in_range(0.0, 1.0, open_low=True,
                                                                open_high=True),
      scope=r.one_of("g", "d", "enc", "both"),
      method=r.registered("jaxgen.pruning.imp:METHODS"),
      prunable=r.registered("jaxgen.pruning.masks:PRUNABLE"), rewind_step=r.non_negative(),
      saliency_batch=r.positive(), quality=r.registered("jaxgen.pruning.imp:QUALITIES"),
      pixel_samples=r.at_least(2))


def early_bird(ratio: float = 0.5, every: int = 50) -> ml_collections.ConfigDict:
  """The early-bird channel-ticket block `config.early_bird` (jaxgen/pruning/early_bird_run.py).

  Needs a DCGAN with BatchNorm in G and D; the ticket is a physically narrower DCGAN.
  """
  return ml_collections.ConfigDict(dict(
      ratio=ratio,           # share of the BatchNorm channels of G, and of D, pruned
      every=every,           # steps between channel masks; a multiple of train.steps_per_call
      l1=1e-4,               # network slimming's L1 on BatchNorm scales during the search
                             # (You et al.'s s = 1e-4): optim.<net>.bn_l1; 0 = no penalty
      lookback=5,            # found when the mask is within `threshold` of the last 5 ...
      threshold=0.1,         # ... in normalised Hamming distance (You et al. 2020)
      max_search_steps=0,    # stop the search here if no ticket was found; 0 = train.num_steps
      init="found",          # found = the weights at the EB step, kept training (network
                             # slimming); init = the dense initialisation, sliced
      budget="full",         # ticket steps: full = train.num_steps (the EB paper); rest =
                             # train.num_steps - EB step (init=found: as many steps as dense)
      baseline=False,        # also train the dense model in <workdir>/dense for comparison
      quality="eval",        # ticket metrics as IMP's pruning.quality: eval | pixels
      pixel_samples=1000,    # samples for quality='pixels'
  ))


rules("early_bird", ratio=r.in_range(0.0, 1.0, open_low=True, open_high=True),
      every=r.positive(), lookback=r.at_least(1), threshold=r.non_negative(),
      max_search_steps=r.non_negative(),
      init=r.registered("jaxgen.pruning.early_bird_run:INITS"),
      budget=r.registered("jaxgen.pruning.early_bird_run:BUDGETS"),
      quality=r.registered("jaxgen.pruning.imp:QUALITIES"),
      pixel_samples=r.at_least(2))


def nwgan(num_components: int = 9) -> ml_collections.ConfigDict:
  """The `config.nwgan` block (trainer 'nwgan', jaxgen/trainers/nwgan.py); the mixture
  proportions' optimizer is `config.optim.pi` (paper: RMSprop 1e-2)."""
  return ml_collections.ConfigDict(dict(
      num_components=num_components,  # K component generators (one vmapped module)
      learn_proportions=True,         # learn pi = softmax(logits); False = fixed uniform
      latent_std=1.0,                 # z ~ N(0, latent_std^2) (the NW paper's 2-D runs: 0.1)
  ))


rules("nwgan", num_components=r.positive(), latent_std=r.positive())


def entropic(lam: float = 5.0) -> ml_collections.ConfigDict:
  """The `config.entropic` block (trainer 'entropic_gan', jaxgen/trainers/entropic_gan.py)."""
  return ml_collections.ConfigDict(dict(
      lam=lam,                 # entropic regulariser lambda (paper: 5 on [0, 1] pixels)
      lam_start=0.0,           # lambda at step 0, raised linearly to `lam` over warmup_steps;
                               # 0 = start at lam (no warm-up)
      warmup_steps=0,          # generator steps of the lambda warm-up
      cost="l1",               # ground cost between examples: l1 | l2 (squared Euclidean)
      cost_scale="pixels01",   # pixels01 = on [0, 1] pixels as the paper (images in
                               # [-1, 1] are mapped first); none = on the raw values
      likelihood_latents=640,  # latent draws per example of the likelihood surrogate
  ))


rules("entropic", lam=r.positive(), lam_start=r.non_negative(),
      warmup_steps=r.non_negative(), cost=r.one_of("l1", "l2"),
      cost_scale=r.one_of("pixels01", "none"), likelihood_latents=r.positive())


def classifier(name: str = "cnn") -> ml_collections.ConfigDict:
  """The `config.classifier` block of trainer 'classifier' (jaxgen/trainers/classifier.py):
  the network (jaxgen/models/classifiers.py), augmentation and weight decay."""
  return ml_collections.ConfigDict(dict(
      name=name,          # cnn | wrn | mlp (2-D points)
      width=32,           # cnn: channels of the first conv (doubling per layer); mlp: units
      depth=2,            # cnn: conv layers; wrn: 6n + 4 (28, 32; 10 on CPU); mlp: layers
      widen=1,            # wrn: width factor k (the papers: 10)
      conv_impl="auto",   # auto | xla | matmul  (jaxgen/nn)
      augment="",         # comma list: crop (reflect-pad 4, random crop), flip (horizontal)
      weight_decay=0.0,   # L2 penalty (wd / 2) |w|^2 on the kernels (PyTorch SGD's; 5e-4)
  ))


rules("classifier", name=r.registered("jaxgen.models.classifiers:CLASSIFIERS"),
      width=r.positive(), depth=r.positive(), widen=r.positive(),
      conv_impl=r.registered("jaxgen.nn.conv:IMPLS"),
      augment=r.comma_list(r.one_of("crop", "flip")), weight_decay=r.non_negative())


def attack(eps: float = 0.2, steps: int = 10, norm: str = "linf") -> ml_collections.ConfigDict:
  """The `config.attack` block (jaxgen/attacks): the PGD of adversarial training and of the
  robust evaluation. Radii and steps are on jaxgen's [-1, 1] scale: 2x the [0, 1] values."""
  return ml_collections.ConfigDict(dict(
      name="pgd",             # training attack: pgd | fgsm
      norm=norm,              # linf | l2
      eps=eps,                # radius (0.2 = 0.1 on [0, 1]; CIFAR-10's 8/255 is 16/255 here)
      steps=steps,            # PGD iterations in training (IAAT / Madry: 10 / 7)
      min_step_size=4 / 255,  # training step = max(2 eps_i / steps, min_step_size) (IAAT's
                              # rule; 2/255 on [0, 1])
      restarts=1,             # random starts of the training attack (worst kept)
      eval_steps=(20, 100),   # PGD-k of the robust evaluation (step 2.5 eps / k, random start)
      eval_restarts=1,        # random starts of each evaluation attack (worst case kept)
  ))


rules("attack", name=r.registered("jaxgen.attacks:ATTACKS"),
      norm=r.registered("jaxgen.attacks:NORMS"), eps=r.non_negative(), steps=r.positive(),
      min_step_size=r.non_negative(), restarts=r.positive(),
      eval_steps=r.positive_ints(), eval_restarts=r.positive())


def adv(method: str = "none") -> ml_collections.ConfigDict:
  """The `config.adv` block: which eps each training example is attacked at (IAAT:
  Balaji et al. 2019, jaxgen/trainers/classifier.py); radii on the [-1, 1] scale."""
  return ml_collections.ConfigDict(dict(
      method=method,          # none (clean training) | pgd (Madry: attack.eps for all) |
                              # iaat (per-example eps kept in the train state)
      warmup_epochs=10,       # iaat: epochs at attack.eps (0 where wrong clean); paper 10
      gamma=3.8 / 255,        # iaat: increment tried per visit (paper 1.9/255 on [0, 1])
      beta=0.1,               # iaat: eps <- beta * new + (1 - beta) * old (paper 0.1)
  ))


rules("adv", method=r.one_of("none", "pgd", "iaat"), warmup_epochs=r.non_negative(),
      gamma=r.non_negative(), beta=r.in_range(0.0, 1.0))


def classifier_config(dataset: str, image_size: int = 0,
                      method: str = "none") -> ml_collections.ConfigDict:
  """A classifier run (trainer 'classifier'): the small CNN, Adam 1e-3, cross-entropy;
  `method` = adv.method (none | pgd | iaat); robust accuracy from eval_metrics."""
  config = base_config()
  config.trainer = "classifier"
  config.dataset.name = dataset
  config.dataset.image_size = image_size
  config.classifier = classifier()
  config.attack = attack()
  config.adv = adv(method)
  config.optim = ml_collections.ConfigDict(dict(c=optimizer(lr=1e-3, b1=0.9)))
  config.train.batch_size = 128
  config.eval.feature_net = "none"       # no generator: only the held-out metrics
  config.eval.best_metric = "accuracy"
  return config


def digits_mlp_classifier(method: str) -> ml_collections.ConfigDict:
  """The robustness table's digits run: MLP 64 -> 128 -> 128 -> 10, Adam 1e-3, batch 64,
  1500 steps, PGD-10 at eps 0.4 on [-1, 1] (0.2 on [0, 1]), evaluated with 2 restarts."""
  config = classifier_config("digits", image_size=0, method=method)
  config.classifier = classifier("mlp")
  config.classifier.width = 128
  config.optim.c.lr = 1e-3
  config.train.batch_size = 64
  config.train.num_steps = 1500         # 67 epochs of the 1437 training digits
  config.train.steps_per_call = 50
  config.train.log_every = 100
  config.train.sample_every = 1500
  config.train.checkpoint_every = 1500
  config.attack.eps = 0.4               # 0.2 on [0, 1]
  config.attack.steps = 10
  config.attack.eval_restarts = 2
  return config


def fashion_mnist_cnn_classifier(method: str) -> ml_collections.ConfigDict:
  """The small CNN on Fashion-MNIST (28x28): 1500 steps of batch 128, attack.eps 0.2 on
  [-1, 1] (the issue's 0.1 on [0, 1]), evaluated with one restart."""
  config = classifier_config("fashion_mnist", image_size=0, method=method)
  config.train.num_steps = 1500
  config.train.steps_per_call = 50
  config.train.log_every = 100
  config.train.sample_every = 1500
  config.train.checkpoint_every = 500
  config.attack.eps = 0.2
  config.attack.eval_restarts = 1
  return config


def flow(model: str = "glow") -> ml_collections.ConfigDict:
  """The `config.flow` block of trainer 'flow' (jaxgen/trainers/flow.py): the flow
  (jaxgen/models/flows), its data handling and adversarial training; radii on [-1, 1]."""
  return ml_collections.ConfigDict(dict(
      model=model,           # glow | realnvp (multi-scale images) | flow2d (2-D points)
      levels=2,              # glow / realnvp: scales; each halves H and W (a factor-out
                             # between scales); sides must divide by 2^levels (realnvp 2^(L-1))
      steps=4,               # glow: K steps per level; flow2d: coupling layers
      width=64,              # hidden channels (images) / units (flow2d) of coupling networks
      depth=2,               # flow2d: hidden layers of each coupling MLP
      lu=True,               # glow: LU-decomposed 1x1 convolutions; False = plain W
      additive=False,        # glow: additive (NICE) couplings instead of affine
      conv_impl="auto",      # auto | xla | matmul  (jaxgen/nn; xla for forward-mode autodiff)
      num_bins=256,          # levels of the discrete data: 256 = 8-bit, 17 = digits (0..16)
      dequantize="uniform",  # uniform (noise of one bin) | variational (learned q(u|x),
                             # Flow++) | none (continuous 2-D data)
      dequant_width=32,      # variational: hidden channels of q(u|x)'s networks
      dequant_steps=4,       # variational: conditional couplings of q(u|x)
      preprocess="none",     # none | logit (Real NVP's logit(alpha + (1 - 2 alpha) x))
      logit_alpha=0.05,      # alpha of the logit pre-processing
      temperature=1.0,       # std of the latents of sample grids and evaluation (Glow: 0.7)
      adversarial="",        # '' (maximum likelihood) | pgd (NLL of PGD inputs) | hybrid
                             # ((1 - adv_weight) clean NLL + adv_weight adversarial NLL)
      adv_eps=0.05,          # PGD radius of adversarial training
      adv_norm="linf",       # linf | l2
      adv_steps=5,           # PGD steps (step size 2.5 eps / steps, random start)
      adv_weight=0.5,        # hybrid: weight of the adversarial NLL
  ))


rules("flow", model=r.registered("jaxgen.models.flows:FLOWS"), levels=r.positive(),
      steps=r.positive(), width=r.positive(), depth=r.positive(),
      conv_impl=r.registered("jaxgen.nn.conv:IMPLS"), num_bins=r.at_least(2),
      dequantize=r.one_of("uniform", "variational", "none"), dequant_width=r.positive(),
      dequant_steps=r.positive(), preprocess=r.one_of("none", "logit"),
      logit_alpha=r.in_range(0.0, 0.5, open_high=True), temperature=r.non_negative(),
      adversarial=r.one_of("", "pgd", "hybrid"), adv_eps=r.non_negative(),
      adv_norm=r.registered("jaxgen.attacks:NORMS"), adv_steps=r.positive(),
      adv_weight=r.in_range(0.0, 1.0))


def flow_config(model: str, dataset: str, image_size: int = 0) -> ml_collections.ConfigDict:
  """A flow run (trainer 'flow'): `model` on `dataset`, Adam 1e-3 (0.9, 0.999), batch 64,
  held-out bits/dim as the evaluation (no feature net); point data are not dequantised."""
  config = base_config()
  config.trainer = "flow"
  config.dataset.name = dataset
  config.dataset.image_size = image_size
  config.flow = flow(model)
  if model == "flow2d":
    config.flow.dequantize = "none"
    config.flow.steps = 8
  config.optim = ml_collections.ConfigDict(dict(flow=optimizer(lr=1e-3, b1=0.9)))
  config.eval.feature_net = "none"
  config.eval.best_metric = "bpd"
  return config


def invgan(gan_workdir: str = "runs/default") -> ml_collections.ConfigDict:
  """The `config.invgan` block (trainer 'invgan', jaxgen/trainers/invgan.py): the paper's
  encoder losses and test-time inversion (Lin, Balaji, Samangouei, Chellappa)."""
  return ml_collections.ConfigDict(dict(
      gan_workdir=gan_workdir,  # jaxgen GAN run whose latest G is inverted (frozen)
      recon_weight=100.0,       # weight of mean(relu(L1(G(E(x_g)), x_g) - margin))
      margin=0.02,              # per-example L1 margin on the [-1, 1] scale (paper 0.02)
      latent_weight=1.0,        # weight of MSE(E(G(z)), z)
      adv_weight=1.0,           # weight of the NS adversarial term of D(G(E(x_g)))
      invert_steps=200,         # test-time latent optimisation steps (paper 200)
      invert_lr=0.01,           # its momentum-SGD lr from z0 = E(x), x0.1 after 80%
      invert_momentum=0.7,      # its momentum (paper 0.7)
      defense_restarts=10,      # Defense-GAN baseline: random z0 per example (paper 10)
      defense_lr=10.0,          # Defense-GAN's lr (paper 10; same schedule and momentum)
  ))


rules("invgan", recon_weight=r.non_negative(), margin=r.non_negative(),
      latent_weight=r.non_negative(), adv_weight=r.non_negative(),
      invert_steps=r.positive(), invert_lr=r.positive(),
      invert_momentum=r.in_range(0.0, 1.0, open_high=True), defense_restarts=r.positive(),
      defense_lr=r.positive())


def stylegan2(r1_gamma: float = 10.0, pl_weight: float = 2.0) -> ml_collections.ConfigDict:
  """The `config.stylegan2` block of trainer 'stylegan2' (jaxgen/trainers/stylegan2.py);
  the architecture is `config.model` with name 'stylegan2' (jaxgen/models/stylegan2.py)."""
  return ml_collections.ConfigDict(dict(
      r1_gamma=r1_gamma,       # R1 weight gamma: + gamma/2 E||grad_x D(x_real)||^2 (paper:
                               # 10 at 256px FFHQ, 0.01 on CIFAR-10)
      r1_interval=16,          # lazy R1: every this many steps, scaled by it; 0 = off
      pl_weight=pl_weight,     # path-length regularisation weight (paper 2; CIFAR-10: 0)
      pl_interval=4,           # lazy path length: every this many steps, scaled by it
      pl_decay=0.01,           # running-mean rate of the path lengths (the target a)
      pl_batch_shrink=2,       # path-length batch = batch_size // this
      style_mixing_prob=0.9,   # P(two latents mixed at a random layer) (CIFAR-10: 0)
      w_avg_decay=0.995,       # EMA rate of w_avg (the truncation centre): w_avg <- lerp
      truncation_psi=1.0,      # psi of samples and evaluations: w_avg + psi (w - w_avg)
  ))


rules("stylegan2", r1_gamma=r.non_negative(), r1_interval=r.non_negative("0 = off"),
      pl_weight=r.non_negative(), pl_interval=r.positive(),
      pl_decay=r.in_range(0.0, 1.0, open_low=True), pl_batch_shrink=r.positive(),
      style_mixing_prob=r.in_range(0.0, 1.0), w_avg_decay=r.in_range(0.0, 1.0),
      truncation_psi=r.in_range(0.0, 1.0))


def stylegan2_config(dataset: str, image_size: int, *, width: int, latent_dim: int,
                     batch_size: int, num_steps: int) -> ml_collections.ConfigDict:
  """StyleGAN2 with the stylegan2-ada-pytorch 'auto' settings: 2 mapping layers, Adam
  lr 0.0025 betas (0, 0.99), G EMA beta 0.5^(32/10k), R1 gamma 0.0002 res^2 / batch,
  path length 2 every 4 steps, style mixing 0.9."""
  config = base_config()
  config.trainer = "stylegan2"
  config.dataset.name = dataset
  config.dataset.image_size = image_size
  config.model.update(name="stylegan2", width=width, latent_dim=latent_dim,
                      mapping_layers=2, mbstd_group=4)
  config.stylegan2 = stylegan2(r1_gamma=0.0002 * image_size ** 2 / batch_size)
  for net in ("g", "d"):
    config.optim[net] = optimizer(lr=0.0025, b1=0.0, b2=0.99)
  config.train.update(batch_size=batch_size, num_steps=num_steps,
                      ema_decay=0.5 ** (32 / 10_000))  # ema_kimg = batch * 10 / 32
  return config


def stylegan2_cifar10_config() -> ml_collections.ConfigDict:
  """StyleGAN2 with stylegan2-ada-pytorch's `--cfg=cifar`: conditional, 512 wide, batch 64,
  R1 gamma 0.01, no path length or style mixing, G EMA over 500k images, 100M images."""
  config = stylegan2_config("tfds:cifar10", 32, width=512, latent_dim=512, batch_size=64,
                            num_steps=100_000_000 // 64)
  config.model.update(cond="projection", mbstd_group=32)
  config.stylegan2.update(r1_gamma=0.01, pl_weight=0.0, style_mixing_prob=0.0)
  config.train.update(ema_decay=0.5 ** (64 / 500_000), sample_every=10_000,
                      checkpoint_every=10_000, log_every=1000)
  return config


def evaluation(every: int = 0, num_samples: int = 2000) -> ml_collections.ConfigDict:
  """The `config.eval` block: sample-quality metrics during training and in jaxgen.evaluate."""
  return ml_collections.ConfigDict(dict(
      every=every,              # steps between in-training evaluations (and at the end); 0 = off
      num_samples=num_samples,  # generated and real examples per evaluation (papers: 50000)
      batch_size=250,           # generation / feature-extraction batch
      feature_net="auto",       # auto | inception | classifier | none; auto = none for points,
                                # inception if inception_weights is set, else classifier
      inception_weights="",     # FID Inception .npz from python -m jaxgen.metrics.convert_inception;
                                # '' = $JAXGEN_CACHE/inception/fid_inception_tf.npz (make inception)
      resize="tf_bilinear",     # Inception input resize to 299: tf_bilinear (TTUR/StyleGAN2-ADA)
                                # | pil_bicubic (clean-fid) | torch_bilinear (pytorch-fid)
      feature_net_dir="",       # trained classifier; '' = $JAXGEN_CACHE (~/.cache/jaxgen)/
                                # feature_nets/<dataset>_<H>x<W>, trained there if absent
      truncation=0.0,           # > 0: latents from N(0, I) truncated to [-t, t] (BigGAN's trick)
      heldout_split="test",     # split of the trainer's held-out metrics (a VAE's -ELBO), all
                                # of its examples; 'train' = the training data (recorded)
      kid_subsets=100,          # KID subsets (of up to 1000 samples each)
      best_metric="",           # metric that picks best/ ('' = fid[_<dataset>]; modes_covered
                                # for 2-D mixtures); any evaluated name, e.g. kid_digits
      best_mode="auto",         # auto | min | max; auto = max for is/precision/recall/density/
                                # coverage/modes_covered/high_quality_fraction/elbo, else min
  ))


rules("eval", every=r.non_negative(), num_samples=r.at_least(2), batch_size=r.at_least(1),
      feature_net=r.registered("jaxgen.metrics.feature_nets:FEATURE_NETS"),
      resize=r.one_of("tf_bilinear", "pil_bicubic", "torch_bilinear"),
      truncation=r.non_negative("0 = off"), kid_subsets=r.at_least(1),
      best_mode=r.registered("jaxgen.evaluate:BEST_MODES"))


def base_config() -> ml_collections.ConfigDict:
  """DCGAN on the embedded 16x16 digits; other configs override fields of this."""
  config = ml_collections.ConfigDict()
  config.seed = 0                  # one seed fixes init, data order and noise
  config.trainer = "gan"           # training algorithm (jaxgen/trainers)
  config.experiment = ""           # '' = one training run | lottery (jaxgen/pruning/imp.py)
                                   # | early_bird (jaxgen/pruning/early_bird_run.py)

  config.dataset = ml_collections.ConfigDict(dict(
      name="digits",     # digits | mnist | fashion_mnist | ring8 | grid25 | mixture | tfds:<name>
      data_dir="",       # '' = the source's default location
      split="train",
      image_size=16,     # resize images to this square side; 0 = native size
      train_examples=0,  # train on a fixed random subset of this many examples (limited-data
                         # studies; split 'train', in-memory sources); evaluation's reference
                         # stays the whole split; 0 = all
      # 2-D point datasets (jaxgen/data/mixtures.py):
      radius=2.0,        # ring8: radius of the ring of means
      spacing=2.0,       # grid25: distance between neighbouring means
      std=0.0,           # ring8 | grid25: std of each Gaussian; 0 = the dataset's own
                         # (ring8 0.02, grid25 0.05)
      means=(),          # mixture: the means, a list of [x, y]
      stds=0.05,         # mixture: one std for all components, or one per component
      weights=(),        # mixture | class_mixture: mixing weights; () = uniform
      # name='class_mixture' (jaxgen/data/class_mixture.py) also reads `source`
      # (fashion_mnist | mnist), `classes` ('1,7,8') and `weights` (one per class).
      # tfds:<name> datasets (jaxgen/data/tfds_source.py):
      image_key="image",       # feature holding the images
      label_key="label",       # feature holding the labels; '' = unlabelled
      center_crop=False,       # crop to a centred square before resizing
      in_memory=True,          # decode the split once into memory; False = stream it
      shuffle_buffer=10_000,   # streaming shuffle buffer (in_memory=False)
      # name='domain_adaptation' (jaxgen/data/domains.py; domains listed there):
      source="",               # labelled source domain(s), comma-separated, e.g. syn_digits
      target="",               # unlabelled target domain, e.g. digits
      domain_seed=0,           # seed of the domain recipes (photo crops, colours, splits)
      val_fraction=0.2,        # share of each source's train split held out for model
                               # selection (split='test' yields it with the target's test)
      max_examples=0,          # cap on examples per domain after the label shift; 0 = all
      label_shift="",          # '' | nw3 | nw5 | nw10 (the NW paper's settings) | custom
      classes="",              # custom: kept classes, e.g. '1,4,8'
      source_fractions="",     # custom: share of each class kept in the source, '1,.5,.1'
      target_fractions="",     # custom: same for the target
      # name='multi_source' (jaxgen/data/multi_source.py; also reads the fields above):
      domain_set="",           # leave-one-domain-out set: rotated | colored | fashion_mix,
                               # or comma-separated domains, e.g. 'fashion_mnist,fashion_mnist_m'
      held_out="",             # the set's target domain (unlabelled or unseen); '' = its last
  ))

  config.model = ml_collections.ConfigDict(dict(
      name="dcgan",       # dcgan | mlp  (jaxgen/models)
      latent_dim=64,      # size of z ~ N(0, I)
      width=64,           # channels at the largest feature map (MLP: hidden units)
      g_norm="batch",     # generator normalisation: batch | layer | none | spectral
      d_norm="batch",     # discriminator: batch | layer | none | spectral (WGAN-GP: layer)
      conv_impl="auto",   # auto | xla | matmul  (jaxgen/nn)
      cond="",            # class conditioning: '' | concat | projection | acgan | adcgan
      attention_res=0,    # resnet/biggan: feature-map side with SAGAN self-attention; 0 = none
      g_channels=(),      # dcgan: G's hidden conv channels, largest map last; () = from width
      d_channels=(),      # dcgan: D's body conv channels, input side first; () = from width
      hidden_sizes=(),    # mlp: hidden widths from the input side of D / the encoder (G
                          # mirrors them), e.g. (128, 64, 12); () = depth x width
      depth=3,            # mlp: hidden layers of G (and of D and the encoder)
      d_width=0,          # mlp | resnet | biggan: D's width; 0 = width
      d_depth=0,          # mlp: D's hidden layers; 0 = depth
      reference_init=False,  # linear_mlp: the NW reference code's generator init
      e_norm="",          # the encoder's normalisation (AE/VAE); '' = d_norm
      embed_dim=128,      # biggan: size of the shared class embedding
      mapping_layers=8,   # stylegan2: layers of the mapping network z -> w (CIFAR-10: 2)
      mapping_lr_mul=0.01,  # stylegan2: learning-rate multiplier of the mapping network
      mbstd_group=4,      # stylegan2: minibatch-stddev group size (CIFAR-10: 32)
      output_activation="auto",  # G's output: tanh | none (logits); auto = tanh for
                                 # images, none for points and a Bernoulli VAE's decoder
  ))

  config.loss = ml_collections.ConfigDict(dict(
      name="ns",            # ns | minimax | hinge | wgan | wgan_gp | lsgan
      penalty="auto",       # '' | gp | gp0 | r1 | r2 | dragan, or a list 'r1,r2';
                            # auto = the loss's own (gp for wgan_gp)
      penalty_weight=-1.0,  # < 0 = the loss's default (10); R1/R2: gamma / 2
      clip_d_weights=0.0,   # WGAN weight clipping bound (0.01 in the paper); 0 = off
      cls_weight=1.0,       # AC-GAN / ADC-GAN auxiliary classifier loss weight
      g_ortho_weight=0.0,   # BigGAN orthogonal regularisation of G (1e-4); 0 = off
  ))

  config.optim = ml_collections.ConfigDict(dict(g=optimizer(), d=optimizer()))

  config.train = ml_collections.ConfigDict(dict(
      batch_size=64,          # global batch, split over all devices
      num_steps=2000,         # generator updates
      n_critic=1,             # discriminator updates per generator update
      diffaug="",             # DiffAugment policy for D's inputs, e.g. 'color,translation,cutout'
      ada_target=0.0,         # ADA (Karras et al. 2020): target of r_t = E[sign(D(real))]
                              # (0.6 in the paper); 0 = off
      ada_interval=4,         # ADA: steps between adjustments of p
      ada_kimg=500,           # ADA: thousands of images for p to go from 0 to 1
      ada_pipeline="bgc",     # ADA ops: groups blit | geom | color | bg | bgc, or single
                              # ops, e.g. 'xflip,rotate90' (jaxgen/augment/ada.py)
      ada_p_init=0.0,         # ADA: augmentation probability at step 0
      ema_decay=0.0,          # EMA of G's weights for sampling/eval (0.999); 0 = off
      ema_start=0,            # steps before the EMA starts averaging (it copies G until then)
      steps_per_call=10,      # train steps per jitted call (a lax.scan)
      log_every=100,          # steps between metrics.jsonl / TensorBoard records
      sample_every=500,       # steps between PNG sample grids
      checkpoint_every=1000,  # steps between Orbax checkpoints
      keep_checkpoints=3,     # most recent checkpoints kept
      async_checkpoints=True,
      num_devices=0,          # devices in the data-parallel mesh; 0 = all
      compute_dtype="float32",  # float32 | bfloat16: activations and matmuls (dcgan,
                                # resnet, biggan); params, optimizer state, losses, BN
                                # and spectral-norm statistics stay float32
      progress_bar=True,
      num_grid_samples=-1,    # samples in each sample grid; -1 = 64 images / 2000 points;
                              # 0 = no sample grids
  ))
  config.eval = evaluation()
  return config


rules("", seed=r.non_negative(), experiment=r.one_of("", "lottery", "early_bird"),
      trainer=r.registered("jaxgen.trainers:TRAINERS"))
rules("dataset", name=r.registered("jaxgen.data:DATASETS", prefixes=("tfds:",)),
      image_size=r.non_negative(), radius=r.positive(), spacing=r.positive(),
      std=r.non_negative(), shuffle_buffer=r.positive(), domain_seed=r.non_negative(),
      val_fraction=r.in_range(0.0, 1.0, open_low=True, open_high=True),
      max_examples=r.non_negative(), train_examples=r.non_negative(),
      label_shift=r.one_of("", "nw3", "nw5", "nw10", "custom"))
rules("model", name=r.registered("jaxgen.models:MODELS"), latent_dim=r.positive(),
      width=r.positive(), g_norm=r.registered("jaxgen.models.layers:NORMS"),
      d_norm=r.registered("jaxgen.models.layers:NORMS"),
      e_norm=r.registered("jaxgen.models.layers:NORMS", ""),
      conv_impl=r.registered("jaxgen.nn.conv:IMPLS"),
      cond=r.registered("jaxgen.models.conditioning:CONDS"), attention_res=r.non_negative(),
      g_channels=r.positive_ints(), d_channels=r.positive_ints(),
      hidden_sizes=r.positive_ints(), depth=r.positive(), d_width=r.non_negative(),
      d_depth=r.non_negative(), embed_dim=r.positive(),
      mapping_layers=r.positive(), mapping_lr_mul=r.positive(), mbstd_group=r.positive(),
      output_activation=r.one_of("auto", "tanh", "none"))
rules("loss", name=r.registered("jaxgen.losses:LOSSES"),
      penalty=r.comma_list(r.registered("jaxgen.losses:PENALTIES", "auto")),
      clip_d_weights=r.non_negative(), cls_weight=r.non_negative(),
      g_ortho_weight=r.non_negative())
rules("train", batch_size=r.positive(), num_steps=r.positive(), n_critic=r.positive(),
      compute_dtype=r.one_of("float32", "bfloat16"),
      diffaug=r.comma_list(r.registered("jaxgen.augment:AUGMENTS")),
      ada_target=r.in_range(0.0, 1.0, open_high=True, note="0 = off"),
      ada_interval=r.positive(), ada_kimg=r.positive(),
      ada_pipeline=r.comma_list(r.registered("jaxgen.augment.ada:NAMES")),
      ada_p_init=r.probability(),
      ema_decay=r.in_range(0.0, 1.0, open_high=True), ema_start=r.non_negative(),
      steps_per_call=r.positive(), log_every=r.non_negative(),
      sample_every=r.non_negative(), checkpoint_every=r.non_negative(),
      keep_checkpoints=r.positive(), num_devices=r.non_negative(),
      num_grid_samples=r.at_least(-1))


def autoencoder_loss(likelihood: str = "auto", beta: float = 1.0, decoder_std: float = 0.1,
                     num_bins: int = 256) -> ml_collections.ConfigDict:
  """The `config.loss` block of an AE or VAE (jaxgen/trainers/autoencoder.py)."""
  return ml_collections.ConfigDict(dict(
      likelihood=likelihood,    # vae: bernoulli | gaussian; ae: also mse; auto = the AE's
                                # mse, the VAE's bernoulli
      beta=beta,                # KL weight: 1 = VAE, > 1 = beta-VAE (ignored by the AE)
      decoder_std=decoder_std,  # gaussian: fixed std of p(x|z) on the [-1, 1] data scale
      num_bins=num_bins,        # gaussian: pixel levels, for bits/dim (256 = 8-bit data)
  ))


rules("loss", likelihood=r.one_of("auto", "mse", "bernoulli", "gaussian"),
      beta=r.non_negative(), decoder_std=r.positive(), num_bins=r.at_least(2))


def da() -> ml_collections.ConfigDict:
  """The `config.da` block of the domain-adaptation trainers (jaxgen/trainers/da_erm.py,
  dann.py, gta.py, nw_adapt.py): networks (jaxgen/models/domain_nets.py) and loss weights."""
  return ml_collections.ConfigDict(dict(
      width=32,                 # F: channels of the first 5x5 conv (the second has 1.5x)
      feature_dim=128,          # F: size of the feature vector
      classifier_hidden=(100,),  # C: hidden widths
      critic_hidden=(256, 100),  # DANN / W / NW domain critic on features: hidden widths
      dann_weight=1.0,          # DANN: weight of the reversed domain loss (lambda)
      dann_schedule="ganin",    # ganin = lambda * (2 / (1 + exp(-10 p)) - 1), p = step /
                                # num_steps (Ganin & Lempitsky 2015) | constant
      gta_adv_weight=0.1,       # GTA: weight of D's class loss on G(F(x_s)) in F's loss
      gta_alpha=0.3,            # GTA: extra factor of F's target adversarial term
      gta_latent_dim=64,        # GTA: size of G's noise z (paper 512)
      gta_g_width=32,           # GTA: G's channels at the largest map
      gta_d_width=32,           # GTA: D's channels of the first conv
      w_weight=1.0,             # W / NW alignment: weight gamma of the critic term in F's loss
      align_every=10,           # W / NW: F gets the alignment term every k-th step (paper 10)
      critic_clip=0.01,         # W / NW: critic weight clipping bound (WGAN)
      conv_impl="auto",         # conv lowering of F, G, D: auto (matmul on CPU) | matmul | xla
  ))


rules("da", width=r.positive(), feature_dim=r.positive(),
      classifier_hidden=r.positive_ints(), critic_hidden=r.positive_ints(),
      dann_weight=r.non_negative(), dann_schedule=r.one_of("ganin", "constant"),
      gta_adv_weight=r.non_negative(), gta_alpha=r.non_negative(),
      gta_latent_dim=r.positive(), gta_g_width=r.positive(), gta_d_width=r.positive(),
      w_weight=r.non_negative(), align_every=r.positive(), critic_clip=r.positive(),
      conv_impl=r.registered("jaxgen.nn.conv:IMPLS"))


def domain_adaptation_config(trainer: str, source: str, target: str, *, num_steps: int = 2000,
                             image_size: int = 28) -> ml_collections.ConfigDict:
  """A domain-adaptation run on CPU: `trainer` (da_source_only | da_oracle | dann | gta |
  w_align | nw_adapt) from `source` to `target` (jaxgen/data/domains.py).

  Adam 2e-4 (0.5, 0.999) for every net (GTA's configs use its paper's 5e-4, b1 0.8);
  source-validation and target accuracy every num_steps / 10 steps; best/ keeps the state
  with the best source-validation accuracy (DomainBed's training-domain selection).
  """
  config = base_config()
  config.trainer = trainer
  config.dataset.name = "domain_adaptation"
  config.dataset.source = source
  config.dataset.target = target
  config.dataset.image_size = image_size
  config.da = da()
  config.optim = ml_collections.ConfigDict(
      {net: optimizer(lr=2e-4) for net in ("f", "c", "d", "g", "pi")})
  config.optim.pi.lr = 5e-4  # NW paper's lrPi
  cpu_schedule(config, num_steps, sample_every=num_steps)
  config.train.log_every = num_steps // 10
  config.eval = evaluation(every=num_steps // 10, num_samples=2000)
  config.eval.feature_net = "none"
  config.eval.best_metric = "src_val_acc"
  config.eval.best_mode = "max"
  return config


def cmss() -> ml_collections.ConfigDict:
  """The `config.cmss` block (jaxgen/trainers/cmss.py): the curriculum manager CM. F's
  reversal weight and schedule are da.dann_weight / da.dann_schedule."""
  return ml_collections.ConfigDict(dict(
      cm_width=16,               # CM: channels of its first 5x5 conv (its own small F)
      cm_feature_dim=64,         # CM: features before its scalar score
      cm_weight=1.0,             # CM: scale of its reversed domain-loss gradient
      weighted_class_loss=False,  # also weight the source CE by B * CM's weights (no
                                  # gradient to CM through it)
  ))


rules("cmss", cm_width=r.positive(), cm_feature_dim=r.positive(), cm_weight=r.non_negative())


def dmg() -> ml_collections.ConfigDict:
  """The `config.dmg` block (jaxgen/trainers/dmg.py): per-domain masks on F's features."""
  return ml_collections.ConfigDict(dict(
      overlap_weight=0.1,    # weight of the mean pairwise soft IoU of the domains' masks
      sparsity_weight=0.0,   # weight of the sum of mask probabilities (the paper: 0)
      init_low=0.0,          # mask logits start U(init_low, init_high) (the paper: U(0, 1))
      init_high=1.0,
      eval_mode="softscale",  # seen domains at evaluation: softscale (features x probs) |
                              # greedy (x (probs > 0.5)); unseen: x mean of the probs
  ))


rules("dmg", overlap_weight=r.non_negative(), sparsity_weight=r.non_negative(),
      eval_mode=r.one_of("softscale", "greedy"))


def multi_source_config(trainer: str, domain_set: str, held_out: str, *,
                        num_steps: int = 2000, image_size: int = 16,
                        max_examples: int = 10000) -> ml_collections.ConfigDict:
  """Leave-one-domain-out on CPU: `trainer` (da_source_only | dann | cmss | dmg) with the
  sources of `domain_set` minus `held_out` (jaxgen/data/multi_source.py); selection on
  source validation as domain_adaptation_config; at most `max_examples` per domain."""
  config = domain_adaptation_config(trainer, "", "", num_steps=num_steps,
                                    image_size=image_size)
  config.dataset.name = "multi_source"
  config.dataset.domain_set = domain_set
  config.dataset.held_out = held_out
  config.dataset.max_examples = max_examples
  config.optim.cm = optimizer(lr=2e-4)  # CMSS's curriculum manager
  # DMG's mask logits (paper: Adam 1e-4 for all over many epochs); 25x F's rate so the
  # masks move within a CPU run's few thousand steps.
  config.optim.m = optimizer(lr=5e-3)
  if trainer == "cmss":
    config.cmss = cmss()
  if trainer == "dmg":
    config.dmg = dmg()
  return config


def segmentation() -> ml_collections.ConfigDict:
  """The `config.segmentation` block of seg_source_only and lsd_seg
  (jaxgen/trainers/seg_source_only.py, lsd_seg.py; nets in jaxgen/models/segmentation.py)."""
  return ml_collections.ConfigDict(dict(
      width=16,           # F: channels of the full-resolution convs (x2, x4 deeper)
      g_width=8,          # LSD-seg G: channels at the full-resolution end (x2, x4 deeper)
      d_width=16,         # LSD-seg D: channels of the first conv (x2 deeper)
      adv_weight=0.1,     # LSD-seg: F's swapped-domain adversarial weight (reference 0.1)
      c_weight=0.1,       # LSD-seg: F's weight of D's class loss on G(F(x_s)) (reference 0.1)
      g_adv_weight=0.1,   # LSD-seg: G's weight of its domain terms (reference 0.1)
      l1_weight=1.0,      # LSD-seg: G's L1 reconstruction weight (reference 1)
      conv_impl="auto",   # conv lowering of F, G, D: auto (matmul on CPU) | matmul | xla
  ))


rules("segmentation", width=r.positive(), g_width=r.positive(), d_width=r.positive(),
      adv_weight=r.non_negative(), c_weight=r.non_negative(),
      g_adv_weight=r.non_negative(), l1_weight=r.non_negative(),
      conv_impl=r.registered("jaxgen.nn.conv:IMPLS"))


def segmentation_config(trainer: str, *, num_steps: int = 1000) -> ml_collections.ConfigDict:
  """Segmentation adaptation on CPU: `trainer` (seg_source_only | lsd_seg) from the flat
  source scenes to the textured target scenes (dataset 'scenes', jaxgen/data/scenes.py).

  Adam 1e-3 (0.9, 0.999) for F, 2e-4 (0.7, 0.999) for G and D (the reference's betas);
  batch 16; each evaluation takes all 800 source-validation and target-test scenes as
  one batch (so src_val_miou and target_miou are the splits' mIoUs), every num_steps / 10
  steps; best/ keeps the state with the best source-validation mIoU.
  """
  config = base_config()
  config.trainer = trainer
  config.dataset.name = "scenes"
  config.dataset.image_size = 0
  config.segmentation = segmentation()
  config.optim = ml_collections.ConfigDict(dict(
      f=optimizer(lr=1e-3, b1=0.9), g=optimizer(lr=2e-4, b1=0.7), d=optimizer(lr=2e-4, b1=0.7)))
  cpu_schedule(config, num_steps, sample_every=num_steps)
  config.train.batch_size = 16
  config.train.num_grid_samples = 0  # no generator of samples from noise
  config.train.log_every = num_steps // 10
  config.eval = evaluation(every=num_steps // 10, num_samples=800)
  config.eval.batch_size = 800
  config.eval.feature_net = "none"
  config.eval.best_metric = "src_val_miou"
  config.eval.best_mode = "max"
  return config


def fashion_mnist_config() -> ml_collections.ConfigDict:
  """DCGAN on Fashion-MNIST at 32x32 from the local IDX files: the zoo's CPU testbed."""
  config = base_config()
  config.dataset.name = "fashion_mnist"
  config.dataset.image_size = 32
  config.model.latent_dim = 100
  config.train.num_steps = 5000
  config.train.sample_every = 1000
  return config


def mlp_gan_config(dataset: str) -> ml_collections.ConfigDict:
  """An MLP GAN on a 2-D point dataset (ring8, grid25, mixture): the mode-collapse testbed."""
  config = base_config()
  config.dataset.name = dataset
  config.dataset.image_size = 0
  config.model.name = "mlp"
  config.model.latent_dim = 16
  config.model.width = 128
  config.model.depth = 3
  config.optim.g = optimizer(lr=1e-3, b1=0.5, b2=0.999)
  config.optim.d = optimizer(lr=1e-3, b1=0.5, b2=0.999)
  config.train.batch_size = 256
  config.train.num_steps = 10000
  config.train.steps_per_call = 100
  config.train.log_every = 500
  config.train.sample_every = 2000
  config.train.checkpoint_every = 5000
  return config


def digits_autoencoder_config(trainer: str,
                              loss: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """An AE or VAE (`trainer`: ae | vae) on the embedded digits with a DCGAN (width 32, latent 64).

  Encoder `enc`: the discriminator's convs + Dense; decoder `g`: the generator, the same as
  configs/lottery/imp_dcgan_digits.py's, so tickets transfer. `loss`: the trainer's
  loss_config (jaxgen/trainers/autoencoder.py). Adam 1e-3 (0.9, 0.999) for both nets.
  """
  config = base_config()
  config.trainer = trainer
  config.model.width = 32
  config.model.latent_dim = 64
  config.loss = loss
  config.optim.g = optimizer(lr=1e-3, b1=0.9)    # the decoder
  config.optim.enc = optimizer(lr=1e-3, b1=0.9)  # the encoder
  return config


def kalibhat_dcgan_config(dataset: str, num_steps: int) -> ml_collections.ConfigDict:
  """Kalibhat et al. (2021)'s lottery DCGAN at 32x32, for an accelerator: h = 128, latent 32.

  NS loss, Adam 2e-4 (0.5, 0.999), batch 100; `num_steps` per round (the paper: 200
  epochs), samples and the one kept checkpoint every 10k steps, FID on 10k samples.
  """
  config = base_config()
  config.dataset.name = dataset
  config.dataset.image_size = 32
  config.model.width = 128        # h
  config.model.latent_dim = 32
  config.loss.name = "ns"
  config.train.batch_size = 100
  config.train.num_steps = num_steps
  config.train.sample_every = 10_000
  config.train.checkpoint_every = 10_000
  config.train.keep_checkpoints = 1
  config.train.log_every = 500
  config.eval.num_samples = 10_000
  return config


def cpu_schedule(config: ml_collections.ConfigDict, num_steps: int,
                 sample_every: int) -> ml_collections.ConfigDict:
  """Sets `config.train` to a short CPU run: one checkpoint (at the end) kept, no progress bar."""
  config.train.num_steps = num_steps
  config.train.sample_every = sample_every
  config.train.checkpoint_every = num_steps
  config.train.keep_checkpoints = 1
  config.train.progress_bar = False
  return config


def lottery(config: ml_collections.ConfigDict, *, rounds: int = 5, scope: str = "both",
            method: str = "imp", num_steps: int | None = 1000,
            rewind_step: int = 10) -> ml_collections.ConfigDict:
  """Makes `config` a lottery-ticket run (config.experiment = 'lottery': jaxgen.pruning.imp).

  Call it after setting `config.optim`: it masks every optimizer (the pruning masks live in
  the optimizer states). `num_steps` per round with cpu_schedule (two sample grids per
  round); None keeps config.train's schedule. `rewind_step`: 10 = late rewinding (Kalibhat
  et al.'s "iteration 10"); the other arguments are pruning()'s.
  """
  config.experiment = "lottery"
  if num_steps is not None:
    cpu_schedule(config, num_steps, sample_every=num_steps // 2)
  for net in config.optim.keys():
    config.optim[net].masked = True
  config.pruning = pruning(rounds=rounds, scope=scope, method=method)
  config.pruning.rewind_step = rewind_step
  return config


def early_bird_experiment(config: ml_collections.ConfigDict, *, num_steps: int,
                          ratio: float = 0.5, every: int = 50,
                          baseline: bool = True) -> ml_collections.ConfigDict:
  """Makes `config` an early-bird run (config.experiment = 'early_bird': early_bird_run).

  `num_steps` of ticket (and, with `baseline`, dense) training with cpu_schedule, a sample
  grid every 1000 steps; `ratio` and `every` are early_bird()'s.
  """
  config.experiment = "early_bird"
  cpu_schedule(config, num_steps, sample_every=1000)
  config.early_bird = early_bird(ratio=ratio, every=every)
  config.early_bird.baseline = baseline
  return config


# Optional top-level blocks whose defaults come from a function of another name; a block
# `config.<name>` is otherwise completed from the zero-argument function `<name>()` here.
BLOCKS: dict[str, Callable[[], ml_collections.ConfigDict]] = {"eval": evaluation}
# Blocks a trainer replaces: trainer name -> {block: defaults function}.
TRAINER_BLOCKS: dict[str, dict[str, Callable[[], ml_collections.ConfigDict]]] = {
    "ae": {"loss": autoencoder_loss}, "vae": {"loss": autoencoder_loss}}


def _block_defaults(name: str) -> ml_collections.ConfigDict | None:
  fn = BLOCKS.get(name) or globals().get(name)
  if not callable(fn):
    return None
  required = [p for p in inspect.signature(fn).parameters.values()
              if p.default is inspect.Parameter.empty]
  if required:
    return None
  block = fn()
  return block if isinstance(block, ml_collections.ConfigDict) else None


def defaults_for(config: Any) -> ml_collections.ConfigDict:
  """The defaults of every block `config` has: base_config(), its trainer's blocks, the
  optional blocks (pruning, early_bird, ...) and one optimizer() per net in config.optim."""
  defaults = base_config()
  for block, fn in TRAINER_BLOCKS.get(config.get("trainer", defaults.trainer), {}).items():
    defaults[block] = fn()
  for name, value in config.items():
    if name not in defaults and isinstance(value, (ml_collections.ConfigDict, dict)):
      block = _block_defaults(name)
      if block is not None:
        defaults[name] = block
  for net in config.get("optim", {}):
    if net not in defaults.optim:
      defaults.optim[net] = optimizer()
  return defaults


def _merged(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
  out = copy.deepcopy(defaults)
  for key, value in given.items():
    if isinstance(value, dict) and isinstance(out.get(key), dict):
      out[key] = _merged(out[key], value)
    else:
      out[key] = value
  return out


def complete(defaults: ml_collections.ConfigDict, given: Any) -> ml_collections.ConfigDict:
  """`given` (a ConfigDict or dict) over `defaults`: the fields it lacks get their default."""
  given = given.to_dict() if isinstance(given, ml_collections.ConfigDict) else dict(given)
  return ml_collections.ConfigDict(_merged(defaults.to_dict(), given))


def dataset_defaults() -> ml_collections.ConfigDict:
  """The defaults of a dataset block given alone (classifier data, tests, tools): those of
  base_config().dataset, except that images keep their native size."""
  block = base_config().dataset
  block.image_size = 0
  return block


def complete_block(name: str, given: Any) -> ml_collections.ConfigDict:
  """Block `name` of base_config() (e.g. 'model', 'dataset') under the fields `given` sets;
  for builders that also take partial blocks (tests, tools)."""
  return complete(base_config()[name], given)


def with_defaults(config: Any) -> ml_collections.ConfigDict:
  """A saved config (e.g. an older run's config.json) with every field it lacks filled in."""
  return complete(defaults_for(config), config)
