"""Flags shared by the command lines (`jaxgen.main`, `jaxgen.sweep`) and the multi-process launch.

A multi-process run (GPU hosts, a TPU pod, or several processes on one machine) starts
one process per host with the same command plus the launch flags below; each flag can
also come from the environment variable named in its help (e.g.
JAXGEN_COORDINATOR_ADDRESS). On a TPU pod or under SLURM, `--distributed` alone lets
JAX detect them.
"""

from __future__ import annotations

import os

from absl import flags
from ml_collections import config_flags

from jaxgen.errors import ConfigError

DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "configs", "default.py")

CONFIG = config_flags.DEFINE_config_file(
    "config", DEFAULT_CONFIG, "Training configuration file (a get_config() module).",
    lock_config=True)
WORKDIR = flags.DEFINE_string(
    "workdir", None, "Directory for checkpoints, logs and samples (default: runs/<config "
    "name>, runs/<config name>_sweep for jaxgen.sweep). Re-running with it resumes.")
DISTRIBUTED = flags.DEFINE_bool(
    "distributed", False, "Call jax.distributed.initialize() first. Implied by any launch "
    "flag below; alone, JAX auto-detects a TPU pod or a SLURM job.")
COORDINATOR_ADDRESS = flags.DEFINE_string(
    "coordinator_address", None, "HOST:PORT of process 0's coordinator, reachable from "
    "every process (env JAXGEN_COORDINATOR_ADDRESS).")
NUM_PROCESSES = flags.DEFINE_integer(
    "num_processes", None, "Number of processes of the run (env JAXGEN_NUM_PROCESSES).")
PROCESS_ID = flags.DEFINE_integer(
    "process_id", None, "This process's index, 0 ... num_processes-1 "
    "(env JAXGEN_PROCESS_ID).")
LOCAL_DEVICE_IDS = flags.DEFINE_list(
    "local_device_ids", None, "Comma-separated local GPU ids this process uses "
    "(env JAXGEN_LOCAL_DEVICE_IDS; default: all).")

ENV_PREFIX = "JAXGEN_"


def default_workdir(config_path: str, suffix: str = "") -> str:
  """runs/<config file's base name><suffix>."""
  name = os.path.splitext(os.path.basename(config_path.split(":")[0]))[0]
  return os.path.join("runs", name + suffix)


def workdir(suffix: str = "") -> str:
  """--workdir, or runs/<config name><suffix>."""
  return WORKDIR.value or default_workdir(flags.FLAGS["config"].config_filename, suffix)


def _launch_value(flag: flags.FlagHolder, env_name: str, parse):
  if flag.value is not None:
    return flag.value
  text = os.environ.get(ENV_PREFIX + env_name, "").strip()
  if not text:
    return None
  try:
    return parse(text)
  except ValueError:
    raise ConfigError(f"{ENV_PREFIX}{env_name}={text!r} is not valid") from None


def launch_args() -> dict:
  """jax.distributed.initialize arguments from the flags and environment (unset omitted)."""
  args = {
      "coordinator_address": _launch_value(COORDINATOR_ADDRESS, "COORDINATOR_ADDRESS", str),
      "num_processes": _launch_value(NUM_PROCESSES, "NUM_PROCESSES", int),
      "process_id": _launch_value(PROCESS_ID, "PROCESS_ID", int),
      "local_device_ids": _launch_value(
          LOCAL_DEVICE_IDS, "LOCAL_DEVICE_IDS",
          lambda s: [int(i) for i in s.split(",")]),
  }
  if isinstance(args["local_device_ids"], list):
    args["local_device_ids"] = [int(i) for i in args["local_device_ids"]]
  return {k: v for k, v in args.items() if v is not None}


def initialize_distributed() -> bool:
  """Calls jax.distributed.initialize when asked to; returns whether it did.

  Raises ConfigError (one line) when the launch settings are incomplete or wrong.
  """
  args = launch_args()
  if not (DISTRIBUTED.value or args):
    return False
  n, i = args.get("num_processes"), args.get("process_id")
  if n is not None and n < 1:
    raise ConfigError(f"--num_processes must be >= 1, got {n}")
  if i is not None and n is not None and not 0 <= i < n:
    raise ConfigError(f"--process_id must be in 0 ... {n - 1}, got {i}")
  import jax
  try:
    jax.distributed.initialize(**args)
  except ValueError as e:
    if "should be defined" not in str(e) and "must be defined" not in str(e):
      raise
    raise ConfigError(
        "multi-process launch: no TPU pod or SLURM job was detected and "
        f"{', '.join('--' + k for k in ('coordinator_address', 'num_processes', 'process_id') if k not in args)}"
        " not given (flags or JAXGEN_* environment variables)") from None
  return True
