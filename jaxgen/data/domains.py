"""Shifted image domains built offline, and the domain-adaptation dataset over them.

A domain is `load_domain(name, split, data_dir, domain_seed) -> (uint8 RGB [N, H, W, 3],
int32 labels [N])`, deterministic given its arguments and cached in memory. Each domain is
also a dataset of its own name (e.g. `fashion_mnist_m`), and `domain_adaptation` pairs
labelled sources with a target: its batches hold source `x`, `y`, `d` (source index) and
target `x_t` (`y_t` is for evaluation and the oracle only).

Domains: fashion_mnist, fashion_mnist_m (|x - photo crop|, MNIST-M's recipe),
fashion_mnist_rot{0,15,30,45,60,75} (RotatedMNIST), fashion_mnist_colored{10,20,90}
(ColoredMNIST, 2 classes, colour flipped w.p. 0.1/0.2/0.9), mnist, mnist_m, digits
(scikit-learn's 8x8 handwritten digits), syn_digits (font-rendered, jaxgen/data/fonts.py).
"""

from __future__ import annotations

import functools
import os
import zlib
from typing import Any, Callable, Iterator

import numpy as np

from jaxgen.data import domain_recipes as recipes
from jaxgen.data import fonts
from jaxgen.data.arrays import ArrayDataset, batch_indices, sample_indices
from jaxgen.data.base import (DATASETS, Batch, DataSpec, Dataset, check_stream_args,
                              image_size_field, split_field)
from jaxgen.data.digits import load_digits_split
from jaxgen.data.idx import FASHION_MNIST, MNIST, load_idx_split
from jaxgen.data.images import ImageTransform, resize
from jaxgen.errors import ConfigError, DataError
from jaxgen.registry import Registry

SPLITS = ("train", "test")
SYN_DIGITS_SIZES = {"train": 10000, "test": 2000}  # rendered examples per split
ROTATIONS = (0, 15, 30, 45, 60, 75)                 # DomainBed's RotatedMNIST angles
COLOUR_FLIPS = {10: 0.1, 20: 0.2, 90: 0.9}          # DomainBed's ColoredMNIST environments

Loader = Callable[[str, str, int], tuple[np.ndarray, np.ndarray]]
DOMAINS: Registry[Loader] = Registry("dataset.source / dataset.target")
NUM_CLASSES: dict[str, int] = {}


def _split_seed(domain_seed: int, split: str, name: str) -> np.random.Generator:
  """The recipe's generator: one stream per (domain_seed, split, domain)."""
  return np.random.default_rng([domain_seed, SPLITS.index(split), sum(map(ord, name))])


def _idx(source, split: str, data_dir: str) -> tuple[np.ndarray, np.ndarray]:
  directory = os.path.expanduser(data_dir or source.default_dir)
  try:
    return load_idx_split(source, directory, split)
  except FileNotFoundError as e:
    raise DataError(str(e)) from e


def _register(name: str, num_classes: int = 10):
  def wrap(loader: Loader) -> Loader:
    NUM_CLASSES[name] = num_classes
    return DOMAINS.register(name)(loader)
  return wrap


@_register("fashion_mnist")
def _fashion(split, data_dir, domain_seed):
  x, y = _idx(FASHION_MNIST, split, data_dir)
  return recipes.to_rgb(x), y


@_register("fashion_mnist_m")
def _fashion_m(split, data_dir, domain_seed):
  x, y = _idx(FASHION_MNIST, split, data_dir)
  return recipes.blend_with_photos(x, _split_seed(domain_seed, split, "fashion_mnist_m")), y


@_register("mnist")
def _mnist(split, data_dir, domain_seed):
  x, y = _idx(MNIST, split, data_dir)
  return recipes.to_rgb(x), y


@_register("mnist_m")
def _mnist_m(split, data_dir, domain_seed):
  x, y = _idx(MNIST, split, data_dir)
  return recipes.blend_with_photos(x, _split_seed(domain_seed, split, "mnist_m")), y


@_register("digits")
def _digits(split, data_dir, domain_seed):
  x, y = load_digits_split(split)
  return recipes.to_rgb((x.astype(np.uint16) * 255 // 16).astype(np.uint8)), y


def cache_dir() -> str:
  """$JAXGEN_CACHE/domains, JAXGEN_CACHE defaulting to ~/.cache/jaxgen."""
  root = os.environ.get("JAXGEN_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                          "jaxgen")
  return os.path.join(root, "domains")


def cached(filename: str, build: Callable[[], tuple[np.ndarray, np.ndarray]]):
  """(x, y) from `cache_dir()/filename` (.npz), built and written there when absent."""
  path = os.path.join(cache_dir(), filename)
  if os.path.exists(path):
    with np.load(path) as f:
      return f["x"], f["y"]
  x, y = build()
  os.makedirs(cache_dir(), exist_ok=True)
  tmp = f"{path}.{os.getpid()}.tmp.npz"
  np.savez(tmp, x=x, y=y)
  os.replace(tmp, path)  # atomic: concurrent builders write the same arrays
  return x, y


@_register("syn_digits")
def _syn_digits(split, data_dir, domain_seed):
  seed = 2 * domain_seed + SPLITS.index(split)  # train and test rendered independently
  n = SYN_DIGITS_SIZES[split]
  # The file name carries the font list, so installing fonts renders a new set.
  tag = zlib.crc32("|".join(os.path.basename(p) for p in fonts.font_paths()).encode())
  return cached(f"syn_digits_{n}_{seed}_32_{tag:08x}.npz", lambda: fonts.syn_digits(n, seed))


def _rotated(degrees: int) -> Loader:
  def load(split, data_dir, domain_seed):
    x, y = _idx(FASHION_MNIST, split, data_dir)
    return recipes.to_rgb(recipes.rotate(x, degrees)), y
  return load


def _coloured(flip_percent: int) -> Loader:
  def load(split, data_dir, domain_seed):
    x, y = _idx(FASHION_MNIST, split, data_dir)
    rng = _split_seed(domain_seed, split, f"fashion_mnist_colored{flip_percent}")
    return recipes.colour_by_label(x, y, COLOUR_FLIPS[flip_percent], rng)
  return load


for _deg in ROTATIONS:
  _register(f"fashion_mnist_rot{_deg}")(_rotated(_deg))
for _flip in COLOUR_FLIPS:
  _register(f"fashion_mnist_colored{_flip}", num_classes=2)(_coloured(_flip))


@functools.lru_cache(maxsize=16)
def load_domain(name: str, split: str, data_dir: str = "",
                domain_seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
  """(uint8 RGB images [N, H, W, 3], int32 labels [N]) of a domain's split, read-only."""
  if split not in SPLITS:
    raise ConfigError(f"unknown dataset.split {split!r}; choose one of: {', '.join(SPLITS)}")
  x, y = DOMAINS.get(name)(split, data_dir, int(domain_seed))
  x, y = np.ascontiguousarray(x), np.asarray(y, np.int32)
  x.flags.writeable = False
  y.flags.writeable = False
  return x, y


def _register_single(name: str) -> None:
  """`dataset.name = <domain>`: the domain alone, as an ArrayDataset of RGB images."""
  def build(config: Any) -> ArrayDataset:
    split = split_field(config, name, SPLITS)
    x, y = load_domain(name, split, config.data_dir, config.domain_seed)
    transform = ImageTransform(max_value=255.0, image_size=image_size_field(config))
    spec = DataSpec(name, transform.output_shape(x.shape[1:]), NUM_CLASSES[name], "image")
    return ArrayDataset(spec, x, y, transform)
  if name not in DATASETS.names():
    DATASETS.register(name)(build)


for _name in DOMAINS.names():
  if _name not in ("fashion_mnist", "mnist", "digits"):  # already datasets (grey)
    _register_single(_name)


def _floats(text: str, field: str) -> tuple[float, ...]:
  try:
    return tuple(float(v) for v in str(text).split(",") if v.strip())
  except ValueError as e:
    raise ConfigError(f"dataset.{field} must be comma-separated numbers, got {text!r}") from e


def label_shift_setting(config: Any) -> tuple[tuple[int, ...], tuple[float, ...],
                                               tuple[float, ...]] | None:
  """(classes, source fractions, target fractions) from dataset.label_shift, or None."""
  name = config.label_shift
  if not name:
    return None
  if name in recipes.LABEL_SHIFTS:
    s = recipes.LABEL_SHIFTS[name]
    return s["classes"], s["source"], s["target"]
  if name != "custom":
    raise ConfigError(f"unknown dataset.label_shift {name!r}; choose one of: '', custom, "
                      f"{', '.join(recipes.LABEL_SHIFTS)}")
  classes = tuple(int(c) for c in _floats(config.classes, "classes"))
  source = _floats(config.source_fractions, "source_fractions")
  target = _floats(config.target_fractions, "target_fractions")
  if not (len(classes) == len(source) == len(target)) or not classes:
    raise ConfigError("dataset.classes, source_fractions and target_fractions must list "
                      "one value per class")
  return classes, source, target


class DomainAdaptationDataset(Dataset):
  """Labelled source domain(s) and a target domain, batched side by side.

  Batch i: {'x', 'y', 'd'} from the sources (d = source index) and {'x_t', 'y_t'} from the
  target, each a pure function of (seed, i). Split 'train' = the sources' training part
  (1 - val_fraction of their train split) and the target's train split; 'test' = the
  sources' held-out validation part (for model selection) and the target's test split.
  """

  def __init__(self, spec: DataSpec, sources: list[tuple[np.ndarray, np.ndarray]],
               target: tuple[np.ndarray, np.ndarray],
               transform: Callable[[np.ndarray], np.ndarray]):
    self.spec = spec
    self._xs = np.concatenate([x for x, _ in sources])
    self._ys = np.concatenate([y for _, y in sources]).astype(np.int32)
    self._ds = np.concatenate([np.full(len(y), i, np.int32) for i, (_, y) in enumerate(sources)])
    self._xt, self._yt = target
    self._transform = transform
    self.num_source = len(self._ys)
    self.num_examples = len(self._yt)  # evaluation covers the target split

  def _gather(self, src: np.ndarray, tgt: np.ndarray) -> Batch:
    f = lambda x: np.asarray(self._transform(x), np.float32)
    return {"x": f(self._xs[src]), "y": self._ys[src], "d": self._ds[src],
            "x_t": f(self._xt[tgt]), "y_t": self._yt[tgt]}

  def batches(self, batch_size: int, *, seed: int, start: int = 0) -> Iterator[Batch]:
    batch_size, seed, start = check_stream_args(batch_size, seed, start)
    # Independent orders for the two streams: seeds 2s and 2s + 1.
    src = batch_indices(self.num_source, batch_size, seed=2 * seed, start=start)
    tgt = batch_indices(self.num_examples, batch_size, seed=2 * seed + 1, start=start)
    return map(self._gather, src, tgt)

  def sample(self, n: int, *, seed: int) -> Batch:
    return self._gather(sample_indices(self.num_source, int(n), seed=seed),
                        sample_indices(self.num_examples, int(n), seed=seed + 1))


def _resized(x: np.ndarray, size: int, chunk: int = 4096) -> np.ndarray:
  """uint8 images resized to size x size (antialiased, as ImageTransform), kept uint8."""
  if x.shape[1:3] == (size, size):
    return x
  parts = [np.rint(resize(x[i:i + chunk].astype(np.float32), size, size))
           for i in range(0, len(x), chunk)]
  return np.clip(np.concatenate(parts), 0, 255).astype(np.uint8)


def _subset(x: np.ndarray, y: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  return x[idx], y[idx]


def _source_part(x, y, split: str, val_fraction: float, domain_seed: int):
  """The training part or the held-out validation part of a source's train split."""
  order = np.random.default_rng([domain_seed, len(y), 7]).permutation(len(y))
  num_val = int(round(val_fraction * len(y)))
  return _subset(x, y, np.sort(order[:num_val] if split == "test" else order[num_val:]))


@DATASETS.register("domain_adaptation")
def build_domain_adaptation(config: Any) -> DomainAdaptationDataset:
  """`dataset.source` (comma-separated domains) -> `dataset.target`, optional label shift."""
  split = split_field(config, "domain_adaptation", SPLITS)
  names = [s.strip() for s in str(config.source).split(",") if s.strip()]
  if not names:
    raise ConfigError("dataset.source must name at least one domain; choose from: "
                      f"{', '.join(DOMAINS.names())}")
  if not 0 < config.val_fraction < 1:
    raise ConfigError(f"dataset.val_fraction must be in (0, 1), got {config.val_fraction}")
  for name in names + [config.target]:
    DOMAINS.get(name)  # an unknown name fails here, listing the domains
  classes = {NUM_CLASSES[n] for n in names + [config.target]}
  if len(classes) != 1:
    raise ConfigError(f"dataset.source and dataset.target have different label sets: "
                      f"{sorted(classes)} classes")
  num_classes = classes.pop()
  shift = label_shift_setting(config)
  seed, data_dir, cap = int(config.domain_seed), config.data_dir, int(config.max_examples)

  def prepare(x, y, fractions, tag):
    if shift is not None:
      rng = np.random.default_rng([seed, tag, SPLITS.index(split)])
      x, y = _subset(x, y, recipes.label_shift_indices(y, shift[0], fractions, rng))
      y = recipes.relabel(y, shift[0])
    if cap and len(y) > cap:
      x, y = _subset(x, y, np.sort(np.random.default_rng([seed, tag, 1]).permutation(len(y))[:cap]))
    if not len(y):
      raise DataError(f"domain_adaptation: domain {tag} has no examples after the label shift")
    return x, y

  sources = []
  for i, name in enumerate(names):
    x, y = load_domain(name, "train", data_dir, seed)
    x, y = _source_part(x, y, split, config.val_fraction, seed)
    sources.append(prepare(x, y, shift[1] if shift else None, i))
  xt, yt = load_domain(config.target, split, data_dir, seed)
  target = prepare(xt, yt, shift[2] if shift else None, len(names))
  shapes = {x.shape[1:] for x, _ in sources + [target]}
  size = image_size_field(config)
  if len(shapes) > 1:
    if not size:
      raise ConfigError(f"domains have different image shapes {sorted(shapes)}; set "
                        "dataset.image_size")
    sources = [(_resized(x, size), y) for x, y in sources]  # one shape to concatenate
    target = (_resized(target[0], size), target[1])
  transform = ImageTransform(max_value=255.0, image_size=size)
  spec = DataSpec("domain_adaptation", transform.output_shape(target[0].shape[1:]),
                  len(shift[0]) if shift else num_classes, "image")
  return DomainAdaptationDataset(spec, sources, target, transform)
