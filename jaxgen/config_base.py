"""The base config every file in `configs/` starts from: every field, with its meaning."""

from __future__ import annotations

import ml_collections


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
      masked=False,         # keep pruned weights at 0 (jaxgen/pruning: mask in opt state)
  ))


def pruning(rounds: int = 5, scope: str = "both",
            method: str = "imp") -> ml_collections.ConfigDict:
  """The lottery-ticket block `config.pruning` (jaxgen/pruning; IMP: jaxgen/pruning/imp.py).

  Pruned nets need `optim.<net>.masked = True`, which keeps the mask in the optimizer state.
  """
  return ml_collections.ConfigDict(dict(
      rounds=rounds,          # pruning rounds after the dense round 0; sparsity at round k
                              # is 1 - (1 - fraction)^k
      fraction=0.2,           # share of the remaining weights pruned per round (paper: 0.2)
      scope=scope,            # nets pruned: g | d | both (AE/VAE: g | enc | both)
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


def early_bird(ratio: float = 0.5, every: int = 50) -> ml_collections.ConfigDict:
  """The early-bird channel-ticket block `config.early_bird` (jaxgen/pruning/early_bird_run.py).

  Needs a DCGAN with BatchNorm in G and D; the ticket is a physically narrower DCGAN.
  """
  return ml_collections.ConfigDict(dict(
      ratio=ratio,           # share of the BatchNorm channels of G, and of D, pruned
      every=every,           # steps between channel masks; a multiple of train.steps_per_call
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


def evaluation(every: int = 0, num_samples: int = 2000) -> ml_collections.ConfigDict:
  """The `config.eval` block: sample-quality metrics during training and in jaxgen.evaluate."""
  return ml_collections.ConfigDict(dict(
      every=every,              # steps between in-training evaluations (and at the end); 0 = off
      num_samples=num_samples,  # generated and real examples per evaluation (papers: 50000)
      batch_size=250,           # generation / feature-extraction batch
      feature_net="auto",       # auto | inception | classifier | none; auto = none for points,
                                # inception if inception_weights is set, else classifier
      inception_weights="",     # FID Inception .npz from python -m jaxgen.metrics.convert_inception
      feature_net_dir="",       # trained classifier; '' = $JAXGEN_CACHE (~/.cache/jaxgen)/
                                # feature_nets/<dataset>_<H>x<W>, trained there if absent
      truncation=0.0,           # > 0: latents from N(0, I) truncated to [-t, t] (BigGAN's trick)
      kid_subsets=100,          # KID subsets (of up to 1000 samples each)
      best_metric="",           # metric that picks best/ ('' = fid[_<dataset>]; modes_covered
                                # for 2-D mixtures); any evaluated name, e.g. kid_digits
      best_mode="auto",         # auto | min | max; auto = max for is/precision/recall/density/
                                # coverage/modes_covered/high_quality_fraction/elbo, else min
  ))


def base_config() -> ml_collections.ConfigDict:
  """DCGAN on the embedded 16x16 digits; other configs override fields of this."""
  config = ml_collections.ConfigDict()
  config.seed = 0                  # one seed fixes init, data order and noise
  config.trainer = "gan"           # training algorithm (jaxgen/trainers)

  config.dataset = ml_collections.ConfigDict(dict(
      name="digits",     # digits | mnist | fashion_mnist | ring8 | grid25 | mixture | tfds:<name>
      data_dir="",       # '' = the source's default location
      split="train",
      image_size=16,     # resize images to this square side; 0 = native size
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
      ema_decay=0.0,          # EMA of G's weights for sampling/eval (0.999); 0 = off
      ema_start=0,            # steps before the EMA starts averaging (it copies G until then)
      steps_per_call=10,      # train steps per jitted call (a lax.scan)
      log_every=100,          # steps between metrics.jsonl / TensorBoard records
      sample_every=500,       # steps between PNG sample grids
      checkpoint_every=1000,  # steps between Orbax checkpoints
      keep_checkpoints=3,     # most recent checkpoints kept
      async_checkpoints=True,
      num_devices=0,          # devices in the data-parallel mesh; 0 = all
      progress_bar=True,
  ))
  config.eval = evaluation()
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
