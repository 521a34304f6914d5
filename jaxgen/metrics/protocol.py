"""How an evaluation was measured, stored next to its numbers (eval.json, eval/* records).

An FID means little without its protocol: which feature network (and exactly which
weights, by sha256), at what resolution, against which real split and how many
examples, from how many samples, with which seed and checkpoint.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import numpy as np

from jaxgen.data import DataSpec
from jaxgen.metrics import classifier as classifier_lib
from jaxgen.metrics import feature_nets


def file_sha256(path: str) -> str:
  """Hex sha256 of a file's bytes (read in 1 MiB chunks)."""
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
      digest.update(chunk)
  return digest.hexdigest()


def classifier_accuracy(directory: str, dataset_config: Any) -> dict[str, Any]:
  """The classifier's held-out accuracy from its meta.json, measured on 'test' if absent."""
  trained = classifier_lib.load_classifier(directory)
  meta = trained.meta
  if "accuracy" in meta and meta.get("held_out", False):
    return {"accuracy": float(meta["accuracy"]), "accuracy_split": meta.get(
        "accuracy_split", "test"), "accuracy_examples": int(meta["num_test"])}
  test = classifier_lib.held_out_dataset(dataset_config)
  batch = test.sample(test.num_examples, seed=0)
  return {"accuracy": classifier_lib.accuracy(trained, batch["x"], batch["y"]),
          "accuracy_split": "test", "accuracy_examples": int(test.num_examples)}


def feature_net_protocol(eval_config: Any, dataset_config: Any,
                         spec: DataSpec) -> dict[str, Any]:
  """Feature network, sha256 of its weights file, its input resizing and (classifier) accuracy."""
  name = feature_nets.resolve_name(eval_config, spec)
  h, w = (spec.shape[:2] if spec.kind == "image" else (None, None))
  if name == "none":
    return {"name": "none"}
  if name == "inception":
    path = feature_nets.inception_weights_path(eval_config)  # '' = the cached TF weights
    return {"name": "inception", "weights": os.path.abspath(path),
            "weights_sha256": file_sha256(path),
            "input": feature_nets.inception_input_description(eval_config.resize, (h, w))}
  directory = eval_config.feature_net_dir or feature_nets.default_classifier_dir(spec)
  meta = classifier_lib.load_classifier(directory).meta
  return {"name": "classifier", "directory": os.path.abspath(directory),
          "weights_sha256": file_sha256(os.path.join(directory, classifier_lib.PARAMS_FILE)),
          "input": f"{h}x{w} images, no resize (trained at the data resolution)",
          "dataset": meta["dataset"], "steps": meta["steps"],
          "arch_version": meta["arch_version"],
          **classifier_accuracy(directory, dataset_config)}


def data_protocol(dataset_config: Any, spec: DataSpec) -> dict[str, Any]:
  """The real data as the models and feature nets see it (name, split, resizing)."""
  out = {"dataset": spec.name, "shape": list(spec.shape), "split": dataset_config.split}
  if spec.kind == "image":
    size = int(dataset_config.image_size)
    out["resize"] = (f"native resolution -> {size}x{size}, antialiased bilinear "
                     "(jaxgen.data.images)" if size else "none (native resolution)")
  return out


def evaluation_protocol(eval_config: Any, dataset_config: Any, spec: DataSpec, *, seed: int,
                        reference: dict[str, Any] | None,
                        heldout: dict[str, Any] | None) -> dict[str, Any]:
  """The protocol of one evaluator; callers add the checkpoint step.

  `reference`: {'split', 'examples', 'split_size'} of the real feature statistics (None
  without a feature net); `heldout`: {'split', 'examples'} of the trainer's held-out
  metrics, or None.
  """
  out = {"feature_net": feature_net_protocol(eval_config, dataset_config, spec),
         "data": data_protocol(dataset_config, spec),
         "num_samples": int(eval_config.num_samples), "batch_size": int(eval_config.batch_size),
         "truncation": float(eval_config.truncation), "seed": int(seed),
         "key": "fold_in(PRNGKey(seed), 2)"}
  if reference is not None:
    out["reference"] = reference
  if heldout is not None:
    out["heldout"] = heldout
  return as_plain(out)


def as_plain(value: Any) -> Any:
  """JSON-ready copy (NumPy scalars to Python numbers)."""
  if isinstance(value, dict):
    return {k: as_plain(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [as_plain(v) for v in value]
  if isinstance(value, np.generic):
    return value.item()
  return value
