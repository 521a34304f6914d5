"""A run killed mid-way and restarted with the same command ends where an uninterrupted run does."""

import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np

from jaxgen import data
from jaxgen.checkpoint import Checkpointer
from jaxgen.trainers import build_trainer
from tests.conftest import REPO, tiny_ring8

OVERRIDES = ["--config.model.width=32", "--config.train.batch_size=32",
             "--config.train.num_steps=3000", "--config.train.steps_per_call=10",
             "--config.train.checkpoint_every=500", "--config.train.log_every=100",
             "--config.train.progress_bar=False"]


def _command(workdir):
  return [sys.executable, "-m", "jaxgen.main", "--config", "configs/gan_ring8.py",
          "--workdir", workdir] + OVERRIDES


def _final_state(workdir):
  config = tiny_ring8(3000)
  trainer = build_trainer(config, data.get_dataset(config.dataset).spec)
  state, step = Checkpointer(workdir).restore(trainer.init(jax.random.PRNGKey(0)))
  assert step == 3000
  return [np.asarray(x) for x in jax.tree.leaves(state)]


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
  straight, killed = str(tmp_path / "straight"), str(tmp_path / "killed")
  subprocess.run(_command(straight), cwd=REPO, check=True, capture_output=True, timeout=300)

  proc = subprocess.Popen(_command(killed), cwd=REPO, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
  first = os.path.join(killed, "checkpoints", "500")
  deadline = time.time() + 240
  while not os.path.isdir(first) and time.time() < deadline and proc.poll() is None:
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  latest = Checkpointer(killed).latest_step()
  assert latest is not None and latest < 3000, "the run was not interrupted mid-way"

  subprocess.run(_command(killed), cwd=REPO, check=True, capture_output=True, timeout=300)
  for a, b in zip(_final_state(straight), _final_state(killed), strict=True):
    np.testing.assert_array_equal(a, b)
