"""Shared test helpers: small configs that train in seconds on CPU."""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

import jax
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_DIR = os.path.join(REPO, "configs")
# 8 fake CPU devices for the multi-device tests. XLA aborts a collective whose 8 device
# threads do not all arrive within 40 s; with 8 devices on 2 shared cores (and another
# pytest worker) that happened in CI, so the tests allow 10 minutes.
EIGHT_DEVICE_XLA_FLAGS = ("--xla_force_host_platform_device_count=8 "
                          "--xla_cpu_collective_call_terminate_timeout_seconds=600")

_XLA_CACHE_ENV = "JAXGEN_TEST_XLA_CACHE"


def pytest_configure(config):
  """One on-disk XLA cache shared by the session's workers: many tests compile the same
  programs (each config trained, then resumed in a second run; the same tiny models in
  several files), so each compiles once. The main process makes the directory (its xdist
  workers inherit it) and removes it at the end; subprocesses (8 fake devices, several
  processes) and scripts importing this file compile as usual."""
  if not hasattr(config, "workerinput"):  # the main process, with or without xdist
    os.environ[_XLA_CACHE_ENV] = tempfile.mkdtemp(prefix="jaxgen-tests-xla-")
  jax.config.update("jax_compilation_cache_dir", os.environ[_XLA_CACHE_ENV])
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def pytest_unconfigure(config):
  if not hasattr(config, "workerinput"):
    shutil.rmtree(os.environ.pop(_XLA_CACHE_ENV), ignore_errors=True)


def run_on_eight_devices(script: str) -> subprocess.CompletedProcess:
  """Runs a Python `script` in a fresh process that sees 8 fake CPU devices."""
  env = dict(os.environ, XLA_FLAGS=EIGHT_DEVICE_XLA_FLAGS, PYTHONPATH=REPO)
  return subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env,
                        capture_output=True, text=True, timeout=600)


def load_config(name: str):
  """Runs `get_config()` of `configs/<name>.py` (what `--config` does)."""
  path = os.path.join(CONFIG_DIR, name if name.endswith(".py") else name + ".py")
  spec = importlib.util.spec_from_file_location(f"config_{abs(hash(path))}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def tiny_ring8(num_steps: int = 40, **train):
  """A ring8 MLP GAN small enough to train a few dozen steps in about a second."""
  config = load_config("gan_ring8")
  config.model.width = 32
  config.train.batch_size = 32
  config.train.num_steps = num_steps
  config.train.steps_per_call = 10
  config.train.log_every = 10
  config.train.sample_every = 20
  config.train.checkpoint_every = 20
  config.train.progress_bar = False
  config.train.update(train)
  return config


def tiny_dcgan(num_steps: int = 6, **train):
  """The default DCGAN at 8x8 with narrow layers."""
  config = load_config("default")
  config.dataset.image_size = 8
  config.model.width = 8
  config.model.latent_dim = 8
  config.train.batch_size = 16
  config.train.num_steps = num_steps
  config.train.steps_per_call = 2
  config.train.log_every = 2
  config.train.sample_every = 4
  config.train.checkpoint_every = 4
  config.train.progress_bar = False
  config.train.update(train)
  return config


@pytest.fixture
def workdir(tmp_path):
  return str(tmp_path / "run")
