"""Converts pytorch-fid's Inception weights (a PyTorch state dict) into a plain `.npz`.

  python -m jaxgen.metrics.convert_inception \\
      --input pt_inception-2015-12-05-6726825d.pth --output inception_fid.npz

The `.npz` holds float32 arrays keyed by Flax variable paths ('params/.../kernel',
'batch_stats/.../mean'); load it with `jaxgen.metrics.inception.load_inception_params`.
torch is needed only here, and the `.pth` is read with `weights_only=True`.
"""

from __future__ import annotations

import argparse
import hashlib
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
  """Converts the `.pth` at `input_path` and writes the `.npz` to `output_path`."""
  arrays = convert_state_dict(load_torch_state_dict(input_path))
  with open(output_path, "wb") as f:  # A file object stops np.savez appending '.npz'.
    np.savez(f, **arrays)
  return arrays


def main(argv: Sequence[str] | None = None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--input", required=True,
                      help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth")
  parser.add_argument("--output", required=True, help="the .npz to write")
  args = parser.parse_args(argv)
  digest = sha256(args.input)
  arrays = convert_file(args.input, args.output)
  num_params = sum(v.size for k, v in arrays.items() if k.startswith("params/"))
  print(f"{args.input} (sha256 {digest}) -> {args.output}: "
        f"{len(arrays)} arrays, {num_params:,} parameters")
  if not digest.startswith(OFFICIAL_SHA256_PREFIX):
    # Unverified here (the file cannot be downloaded): a hint, not an error.
    print(f"note: sha256 does not start with {OFFICIAL_SHA256_PREFIX}, the hash in the "
          "official file's name; check these are pytorch-fid's FID weights")


if __name__ == "__main__":
  main()
