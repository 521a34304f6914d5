"""Config defaults live only in jaxgen/config_base.py; report formatting; signal handlers."""

import glob
import os
import re
import signal

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import data, evaluate, train
from jaxgen.errors import ConfigError
from jaxgen.pruning import imp
from jaxgen.sweeps import report
from jaxgen.trainers import Trainer
from tests.conftest import REPO, tiny_ring8

# A `.get(` or `getattr(` on a config-like name is a default kept outside config_base.
_FALLBACK = re.compile(r"\b\w*(config|cfg)\w*\.get\(|getattr\(\s*\w*(config|cfg)\w*\s*,")


def test_no_config_fallbacks_outside_config_base():
  hits = []
  for path in sorted(glob.glob(os.path.join(REPO, "jaxgen", "**", "*.py"), recursive=True)):
    if os.path.basename(path) == "config_base.py":  # the defaults machinery itself
      continue
    with open(path, encoding="utf-8") as f:
      for number, line in enumerate(f, 1):
        if _FALLBACK.search(line.split("#")[0]):
          hits.append(f"{os.path.relpath(path, REPO)}:{number}: {line.strip()}")
  assert not hits, "\n".join(hits)


def test_the_fallback_pattern_catches_the_old_forms():
  assert _FALLBACK.search('config.get("data_dir", "")')
  assert _FALLBACK.search('eval_config.get("feature_net", "auto")')
  assert _FALLBACK.search('getattr(config, "experiment", "")')
  assert not _FALLBACK.search('variables.get("batch_stats", {})')


def test_mean_std_uses_the_sample_std_and_names_n():
  values = [0.91, 0.85, 0.88]
  std = np.std(values, ddof=1)  # 0.0300, not the population 0.0245
  assert report.mean_std(values, ".3f") == f"{np.mean(values):.3f} ± {std:.3f} (n=3)"
  assert report.mean_std(values, ".3f", with_n=False) == "0.880 ± 0.030"
  assert report.mean_std([0.5], ".1f", with_n=False) == "0.5"
  assert report.mean_std([0.5], ".1f") == "0.5 (n=1)"


def test_evaluator_keeps_its_own_copy_of_the_eval_block():
  config = tiny_ring8()
  dataset = data.get_dataset(config.dataset)
  trainer = Trainer(init=lambda key: jnp.zeros(()), train_step=None,
                    sample=lambda state, z: z,
                    noise=lambda key, n: jax.random.normal(key, (n, 2)), batches_per_step=1)
  evaluator = evaluate.Evaluator(config, trainer, dataset)
  config.eval.truncation = 0.5
  assert evaluator.config.truncation == 0.0
  assert np.abs(evaluator.samples(None, evaluate.eval_key(0))).max() > 2.0  # untruncated


def test_stop_signals_install_and_restore_handlers_as_a_context_manager():
  before = signal.getsignal(signal.SIGINT)
  with pytest.raises(RuntimeError, match="inside"):
    with train.StopSignals() as signals:
      assert signal.getsignal(signal.SIGINT) == signals._handle
      assert not signals.stop_requested()
      signals._handle(signal.SIGTERM, None)
      assert signals.stop_requested() and signals.received == "SIGTERM"
      raise RuntimeError("inside")
  assert signal.getsignal(signal.SIGINT) is before


def test_a_lottery_run_without_its_pruning_block_is_one_config_error():
  config = tiny_ring8()
  config.experiment = "lottery"
  with pytest.raises(ConfigError, match=r"^config.pruning is missing: add "
                                        r"config_base.pruning\(\)"):
    imp.validate(config)
