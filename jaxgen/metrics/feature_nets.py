"""Feature networks for sample-quality metrics, chosen by `config.eval.feature_net`.

'inception' is the FID Inception-v3 (metrics `fid`, `kid`, precision/recall, comparable
with published numbers under the protocol of `inception_inputs`; `is` only with weights
that have the 1008-way logits, which the default TF-graph weights lack). 'classifier'
is a small CNN trained by jaxgen on the dataset (metrics `fid_<dataset>`,
`kid_<dataset>`, `is_<dataset>`, ...: they rank models on that dataset but are NOT
comparable with Inception FID/KID/IS).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.data import DataSpec
from jaxgen.errors import ConfigError, DataError
from jaxgen.metrics import classifier as classifier_lib
from jaxgen.metrics import convert_inception, inception, inception_inputs

FEATURE_NETS = ("auto", "classifier", "inception", "none")
DEFAULT_CLASSIFIER_STEPS = 1000

# Jitted (variables, images [B, H, W, C] in [-1, 1]) -> (features [B, d], logits [B, K] or None)
ApplyFn = Callable[[Any, jax.Array], tuple[jax.Array, jax.Array | None]]


class FeatureNet:
  """A network whose features give FID/KID/precision/recall and whose softmax gives IS.

  `tag` suffixes metric names ('' for Inception: `fid`; 'digits': `fid_digits`).
  """

  def __init__(self, tag: str, description: str, apply_fn: ApplyFn, variables: Any,
               has_logits: bool, input_shape: tuple[int, ...] | None = None,
               max_batch: int = 1 << 30):
    self.tag = tag
    self.max_batch = max_batch  # caps activation memory (Inception at 299x299: 50)
    self.description = description
    self.has_logits = has_logits
    self.input_shape = input_shape
    self._variables = variables
    self._apply = apply_fn

  def metric_name(self, base: str) -> str:
    """E.g. 'fid' -> 'fid_digits' for a classifier on digits, 'fid' for Inception."""
    return f"{base}_{self.tag}" if self.tag else base

  def outputs(self, images: Any, batch_size: int = 250) -> tuple[np.ndarray, np.ndarray | None]:
    """Float32 (features [N, d], logits [N, K] or None) of images [N, H, W, C] in [-1, 1].

    The last batch is edge-padded, so one compilation serves every batch.
    """
    images = np.asarray(images, np.float32)
    if self.input_shape is not None and tuple(images.shape[1:]) != self.input_shape:
      raise ValueError(f"feature net {self.description!r} takes images of shape "
                       f"{self.input_shape}, got {tuple(images.shape[1:])}")
    n = images.shape[0]
    batch_size = max(1, min(batch_size, self.max_batch, n))
    features, logits = [], []
    for start in range(0, n, batch_size):
      batch = images[start:start + batch_size]
      count = batch.shape[0]
      if count < batch_size:
        batch = np.concatenate([batch, np.repeat(batch[-1:], batch_size - count, axis=0)])
      f, l = self._apply(self._variables, jnp.asarray(batch))
      features.append(np.asarray(f)[:count])
      if l is not None:
        logits.append(np.asarray(l)[:count])
    return np.concatenate(features), (np.concatenate(logits) if logits else None)

  def features(self, images: Any, batch_size: int = 250) -> np.ndarray:
    return self.outputs(images, batch_size)[0]

  def logits(self, images: Any, batch_size: int = 250) -> np.ndarray | None:
    return self.outputs(images, batch_size)[1] if self.has_logits else None


# Jitted at module level (as classifier.classifier_outputs), so every FeatureNet of the
# same architecture, resize filter and batch shape in a process shares one compilation.
@functools.partial(jax.jit, static_argnums=0)
def _inception_outputs(resize, variables, images):
  x = inception_inputs.tf_inception_inputs(jnp.clip(images, -1.0, 1.0), resize)
  out = inception.model_for(variables).apply(variables, x, resize_input=False)
  # IS uses the logits without the fc bias, as openai/improved-gan and torch-fidelity.
  return out["pool3"], out.get("logits_unbiased")


def inception_weights_path(eval_config: Any) -> str:
  """eval.inception_weights, or the cached TF-graph weights (converted on first use)."""
  path = eval_config.inception_weights
  if not path:
    return convert_inception.find_or_build_default_weights()
  if not os.path.isfile(path):
    raise DataError(f"eval.inception_weights: no such file {path}")
  return path


def inception_input_description(resize: str, image_shape: tuple[int, ...] = ()) -> str:
  """One line on how images reach the Inception (for eval.json and the net's description)."""
  size = f"{image_shape[0]}x{image_shape[1]} " if image_shape else ""
  return (f"{size}images quantised to uint8, grey repeated to RGB, {resize} resize to "
          f"{inception_inputs.INPUT_SIZE}x{inception_inputs.INPUT_SIZE}, "
          "(v - 128) / 128 in [-1, 0.9921875]")


def inception_net(weights_path: str, resize: str = "tf_bilinear") -> FeatureNet:
  """The FID Inception-v3 from a `convert_inception` .npz, fed by `tf_inception_inputs`."""
  if resize not in inception_inputs.RESIZE_FILTERS:
    raise ConfigError(f"eval.resize must be one of {', '.join(inception_inputs.RESIZE_FILTERS)}"
                      f", got {resize!r}")
  variables = inception.load_inception_params(weights_path)
  has_logits = "fc" in variables["params"]
  return FeatureNet("", f"inception ({weights_path}; {inception_input_description(resize)})",
                    functools.partial(_inception_outputs, resize), variables,
                    has_logits=has_logits, max_batch=50)


@functools.partial(jax.jit, static_argnums=0)
def _scaled_classifier_outputs(module, variables, images):
  params, scale = variables
  features, logits = classifier_lib.classifier_outputs(module, params, images)
  return features / scale, logits


def classifier_net(trained: classifier_lib.TrainedClassifier, directory: str = "") -> FeatureNet:
  """Penultimate features and logits of a jaxgen-trained classifier.

  Features are divided by their RMS on the training data, so x.y / d is about 1, the
  scale KID's kernel (x.y / d + 1)^3 assumes (as for Inception's pool3 features).
  """
  meta = trained.meta
  h, w = meta["image_shape"][:2]
  where = f", {directory}" if directory else ""
  kind = "held-out" if meta.get("held_out", True) else "training"
  description = (f"classifier {meta['dataset']} {h}x{w} ({kind} accuracy "
                 f"{meta.get('accuracy', float('nan')):.4f}{where})")
  apply = functools.partial(_scaled_classifier_outputs, trained.module)
  variables = (trained.params, jnp.float32(meta["feature_scale"]))
  return FeatureNet(dataset_tag(meta["dataset"]), description, apply, variables,
                    has_logits=True, input_shape=tuple(meta["image_shape"]))


def dataset_tag(name: str) -> str:
  """Metric/cache-safe name of a dataset: 'tfds:cifar10' -> 'cifar10'."""
  return re.sub(r"[^0-9A-Za-z]+", "_", name.split(":")[-1]).strip("_").lower()


def default_classifier_dir(spec: DataSpec) -> str:
  """`$JAXGEN_CACHE/feature_nets/<dataset>_<H>x<W>`, JAXGEN_CACHE defaulting to ~/.cache/jaxgen."""
  root = os.environ.get("JAXGEN_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                        "jaxgen")
  h, w = spec.shape[:2]
  return os.path.join(root, "feature_nets", f"{dataset_tag(spec.name)}_{h}x{w}")


def get_classifier(dataset_config: Any, spec: DataSpec, directory: str = "") -> FeatureNet:
  """Loads the classifier in `directory` (default: the cache), training it first if absent.

  A cache entry of an older architecture is retrained; a given `directory` never is.
  """
  cached = not directory
  directory = directory or default_classifier_dir(spec)
  if cached and classifier_lib.is_saved(directory):
    try:
      classifier_lib.load_classifier(directory)
    except classifier_lib.StaleClassifierError:
      shutil.rmtree(directory)  # A cache entry of an older architecture: retrain it.
  if not classifier_lib.is_saved(directory):
    h, w = spec.shape[:2]
    print(f"jaxgen: no feature classifier in {directory}; training one on {spec.name} "
          f"{h}x{w} ({DEFAULT_CLASSIFIER_STEPS} steps, once)", file=sys.stderr, flush=True)
    trained = classifier_lib.train_classifier(dataset_config, steps=DEFAULT_CLASSIFIER_STEPS)
    classifier_lib.save_classifier(directory, trained)
  trained = classifier_lib.load_classifier(directory)
  meta = trained.meta
  if meta["dataset"] != spec.name or tuple(meta["image_shape"]) != tuple(spec.shape):
    raise ConfigError(
        f"eval.feature_net_dir {directory} holds a classifier for {meta['dataset']} "
        f"{tuple(meta['image_shape'])}, not {spec.name} {tuple(spec.shape)}")
  return classifier_net(trained, directory)


def resolve_name(eval_config: Any, spec: DataSpec) -> str:
  """eval.feature_net with 'auto' resolved: none for points, inception if weights given."""
  name = eval_config.feature_net
  if name not in FEATURE_NETS:
    raise ConfigError(f"unknown eval.feature_net {name!r}; choose one of: "
                      f"{', '.join(FEATURE_NETS)}")
  if name == "auto":
    if spec.kind != "image":
      return "none"
    return "inception" if eval_config.inception_weights else "classifier"
  return name


def get_feature_net(eval_config: Any, dataset_config: Any, spec: DataSpec) -> FeatureNet | None:
  """The feature network named by `eval_config.feature_net` for data `spec` (None: 'none')."""
  name = resolve_name(eval_config, spec)
  if name == "none":
    return None
  if spec.kind != "image":
    raise ConfigError(f"eval.feature_net {name!r} needs an image dataset; {spec.name!r} "
                      "has points (use none or auto)")
  if name == "inception":
    return inception_net(inception_weights_path(eval_config), eval_config.resize)
  if spec.num_classes < 2:
    raise ConfigError(f"eval.feature_net 'classifier' needs a labelled dataset; {spec.name!r} "
                      "has no labels (use inception or none)")
  return get_classifier(dataset_config, spec, eval_config.feature_net_dir)
