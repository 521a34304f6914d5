"""Runs killed (SIGKILL) or stopped (SIGINT, SIGTERM) mid-way and restarted with the same
command end where an uninterrupted run does; unreadable checkpoints fall back."""

import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from jaxgen import data, train
from jaxgen.checkpoint import Checkpointer
from jaxgen.errors import CheckpointError
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


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
  """Workdir of the uninterrupted run, shared by the tests of this file."""
  workdir = str(tmp_path_factory.mktemp("straight") / "run")
  subprocess.run(_command(workdir), cwd=REPO, check=True, capture_output=True, timeout=300)
  return workdir


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path, straight):
  killed = str(tmp_path / "killed")

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


def _wait_for_record(proc, metrics, after_step):
  """Waits until metrics.jsonl has a record past `after_step` (the run is training)."""
  deadline = time.time() + 240
  while time.time() < deadline and proc.poll() is None:
    if os.path.exists(metrics):
      with open(metrics, encoding="utf-8") as f:
        steps = [json.loads(line)["step"] for line in f if line.strip()]
      if steps and steps[-1] > after_step:
        return
    time.sleep(0.05)
  raise AssertionError("the run logged no new step")


def test_sigint_and_sigterm_save_the_current_step_and_resume_bit_identically(tmp_path,
                                                                              straight):
  stopped = str(tmp_path / "stopped")
  metrics = os.path.join(stopped, "metrics.jsonl")
  last = 0
  for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, then a scheduler's preemption
    proc = subprocess.Popen(_command(stopped), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    _wait_for_record(proc, metrics, last)
    proc.send_signal(sig)
    stderr = proc.communicate(timeout=240)[1]
    assert proc.returncode == 128 + sig, stderr[-2000:]
    step = Checkpointer(stopped).latest_step()
    # Saved the step it stopped at (not a periodic one: those are multiples of 500).
    assert step is not None and last < step < 3000 and step % 500, step
    assert stderr.strip().splitlines()[-1] == (
        f"jaxgen: {sig.name} received: stopped at step {step} with a checkpoint in "
        f"{os.path.join(stopped, 'checkpoints')}; re-run the same command to resume from it")
    with open(metrics, encoding="utf-8") as f:
      assert json.loads(f.readlines()[-1])["step"] == step  # metrics flushed up to it
    last = step
  subprocess.run(_command(stopped), cwd=REPO, check=True, capture_output=True, timeout=300)
  for a, b in zip(_final_state(straight), _final_state(stopped), strict=True):
    np.testing.assert_array_equal(a, b)


def _spoil(step_dir):
  for root, _, files in os.walk(step_dir):
    for name in files:
      if not name.startswith("_CHECKPOINT_METADATA"):
        with open(os.path.join(root, name), "wb") as f:
          f.write(b"not a checkpoint")


def test_unreadable_latest_checkpoint_falls_back_to_the_previous_one(tmp_path):
  workdir = str(tmp_path / "run")
  config = tiny_ring8(40, checkpoint_every=20, async_checkpoints=False)
  final = [np.asarray(x) for x in jax.tree.leaves(jax.device_get(
      train.train_and_evaluate(config, workdir)))]
  directory = os.path.join(workdir, "checkpoints")
  _spoil(os.path.join(directory, "40"))
  trainer = build_trainer(config, data.get_dataset(config.dataset).spec)
  target = trainer.init(jax.random.PRNGKey(0))
  with pytest.warns(RuntimeWarning, match=rf"{directory}/40 is unreadable .* resuming "
                    rf"from {directory}/20 instead"):
    _, step = Checkpointer(workdir).restore(target)
  assert step == 20
  assert os.path.isdir(os.path.join(workdir, "checkpoints_unreadable", "40"))
  # Training again redoes steps 21-40 from checkpoint 20 and saves step 40 anew.
  again = train.train_and_evaluate(config, workdir)
  for a, b in zip(final, jax.tree.leaves(jax.device_get(again)), strict=True):
    np.testing.assert_array_equal(a, np.asarray(b))
  # With every checkpoint unreadable the error stays a clear one.
  for step in ("20", "40"):
    _spoil(os.path.join(directory, step))
  with pytest.raises(CheckpointError, match=r"no checkpoint in .* is readable \(steps 40, 20\)"):
    Checkpointer(workdir).restore(target)


def test_checkpoint_written_before_an_empty_state_field_existed_restores(tmp_path):
  """A GAN state gained `ada = {}` (ADA off); checkpoints written without it still restore,

  also when they hold another empty field (`g_ema = {}` without EMA), while a checkpoint
  that differs in a real field still fails with the clear error.
  """
  import flax
  import jax.numpy as jnp
  import optax

  @flax.struct.dataclass
  class Old:
    params: dict
    opt_state: object
    g_ema: object = flax.core.FrozenDict()

  @flax.struct.dataclass
  class New:
    params: dict
    opt_state: object
    g_ema: object = flax.core.FrozenDict()
    ada: object = flax.core.FrozenDict()

  params = {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.ones(3)}
  opt_state = optax.adam(1e-3).init(params)
  saver = Checkpointer(str(tmp_path), async_save=False)
  saver.save(5, Old(params, opt_state))
  saver.close()
  zeros = jax.tree.map(jnp.zeros_like, params)
  restored, step = Checkpointer(str(tmp_path)).restore(
      New(zeros, optax.adam(1e-3).init(zeros)))
  assert step == 5 and restored.ada == {} and restored.g_ema == {}
  for a, b in zip(jax.tree.leaves(restored), jax.tree.leaves(New(params, opt_state))):
    np.testing.assert_array_equal(a, b)
  wrong = {"w": jnp.zeros((3, 3)), "b": jnp.zeros(3)}
  with pytest.raises(CheckpointError, match="does not match"):
    Checkpointer(str(tmp_path)).restore(New(wrong, optax.adam(1e-3).init(wrong)))
