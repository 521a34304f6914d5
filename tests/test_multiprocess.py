"""Two processes x 4 CPU devices on localhost train like one process x 8 devices.

The processes talk over JAX's distributed service (coordinator bound to 127.0.0.1) and
gloo CPU collectives: the same code path as the hosts of a pod.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np

from jaxgen import data, evaluate
from jaxgen.checkpoint import Checkpointer
from jaxgen.trainers import build_trainer
from tests.conftest import REPO

NUM_STEPS = 60
OVERRIDES = ["--config.model.width=32", "--config.train.batch_size=32",
             f"--config.train.num_steps={NUM_STEPS}", "--config.train.steps_per_call=10",
             "--config.train.checkpoint_every=1000", "--config.train.log_every=10",
             "--config.train.sample_every=30", f"--config.eval.every={NUM_STEPS}",
             "--config.eval.num_samples=500", "--config.train.progress_bar=False"]
_TIMEOUT = "--xla_cpu_collective_call_terminate_timeout_seconds=600"


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _command(workdir: str, *launch: str) -> list[str]:
  return [sys.executable, "-m", "jaxgen.main", "--config", "configs/gan_ring8.py",
          "--workdir", workdir, *launch] + OVERRIDES


def _launch_two(workdir: str) -> list[subprocess.Popen]:
  port = _free_port()
  env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=REPO,
             XLA_FLAGS=f"--xla_force_host_platform_device_count=4 {_TIMEOUT}",
             JAX_COORDINATOR_BIND_ADDRESS=f"127.0.0.1:{port}",  # loopback only
             JAXGEN_COORDINATOR_ADDRESS=f"127.0.0.1:{port}", JAXGEN_NUM_PROCESSES="2")
  return [subprocess.Popen(_command(workdir), cwd=REPO, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           env=dict(env, JAXGEN_PROCESS_ID=str(i))) for i in range(2)]


def _finish(procs: list[subprocess.Popen]) -> list[tuple[int, str]]:
  return [(p.wait(timeout=600), p.communicate()[1]) for p in procs]


def _final_params(workdir: str) -> tuple[int, list[np.ndarray]]:
  config = evaluate.load_run(workdir)
  trainer = build_trainer(config, data.get_dataset(config.dataset).spec)
  checkpointer = Checkpointer(workdir)
  state, step = checkpointer.restore(trainer.init(jax.random.PRNGKey(config.seed)))
  checkpointer.close()
  return step, [np.asarray(x) for x in jax.tree.leaves(state)]


def test_two_processes_train_resume_evaluate_and_match_eight_devices(tmp_path):
  multi, single = str(tmp_path / "two_processes"), str(tmp_path / "eight_devices")
  # 1. Train, and preempt process 1 only with SIGTERM once a step was logged.
  procs = _launch_two(multi)
  metrics = os.path.join(multi, "metrics.jsonl")
  deadline = time.time() + 300
  while not (os.path.exists(metrics) and os.path.getsize(metrics)) and time.time() < deadline:
    assert all(p.poll() is None for p in procs), _finish(procs)
    time.sleep(0.1)
  procs[1].send_signal(signal.SIGTERM)
  ends = _finish(procs)
  assert [code for code, _ in ends] == [143, 143], ends
  stopped = Checkpointer(multi).latest_step()
  assert stopped is not None and 0 < stopped < NUM_STEPS, "not stopped mid-way"
  for _, stderr in ends:  # both processes saved and named the same step
    assert f"stopped at step {stopped} with a checkpoint" in stderr.splitlines()[-1]

  # 2. The same command resumes and finishes; one process writes the records.
  ends = _finish(_launch_two(multi))
  assert [code for code, _ in ends] == [0, 0], [e[-2000:] for _, e in ends]
  with open(metrics, encoding="utf-8") as f:
    records = [json.loads(line) for line in f]
  steps = [r["step"] for r in records if "d_loss" in r]
  assert steps == list(range(10, NUM_STEPS + 1, 10))  # no step twice, none missing
  evals = [r for r in records if "eval/modes_covered" in r]
  assert [r["step"] for r in evals] == [NUM_STEPS]
  assert os.path.exists(os.path.join(multi, "samples", f"step_{NUM_STEPS:07d}.png"))
  assert os.path.exists(os.path.join(multi, "samples.png"))

  # 3. jaxgen.evaluate reads the multi-process checkpoint and writes eval.json.
  record = evaluate.evaluate_run(multi)
  assert record["step"] == NUM_STEPS
  assert record["metrics"]["modes_covered"] == evals[0]["eval/modes_covered"]
  assert os.path.exists(os.path.join(multi, "eval.json"))

  # 4. One process with 8 devices, uninterrupted, reaches the same parameters.
  env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=REPO,
             XLA_FLAGS=f"--xla_force_host_platform_device_count=8 {_TIMEOUT}")
  subprocess.run(_command(single), cwd=REPO, env=env, check=True, capture_output=True,
                 timeout=600)
  (step_a, a), (step_b, b) = _final_params(multi), _final_params(single)
  assert step_a == step_b == NUM_STEPS
  for x, y in zip(a, b, strict=True):
    np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def _cli_error(module: str, config: str, *flags: str) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, "-m", module, "--config", config, *flags],
                        cwd=REPO, capture_output=True, text=True, timeout=300,
                        env=dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=REPO))


def test_one_process_drivers_and_a_launch_without_a_cluster_fail_in_one_line(tmp_path):
  cases = [
      (("jaxgen.sweep", "configs/gan_ring8.py", "--num_processes=2"),
       "jaxgen.sweep: error: jaxgen.sweep runs in one process"),
      (("jaxgen.main", "configs/lottery/imp_dcgan_digits.py", "--distributed"),
       "jaxgen: error: experiment='lottery' runs in one process only"),
      (("jaxgen.main", "configs/lottery/early_bird_dcgan_digits.py", "--num_processes=2"),
       "jaxgen: error: experiment='early_bird' runs in one process only"),
      (("jaxgen.main", "configs/gan_ring8.py", "--distributed"),
       "jaxgen: error: multi-process launch: no TPU pod or SLURM job was detected and "
       "--coordinator_address, --num_processes, --process_id not given"),
  ]
  for (module, config, flag), start in cases:
    result = _cli_error(module, config, flag, "--workdir", str(tmp_path / "w"))
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1].startswith(start), result.stderr[-2000:]
