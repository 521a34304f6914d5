"""Sweeps: run i of a vmapped sweep equals the same config trained alone, outputs, errors."""

import csv
import json
import os
import subprocess
import sys
import textwrap

import chex
import jax
import numpy as np
import pytest

from jaxgen import metrics, train
from jaxgen.sweeps import make_grid, run_sweep
from jaxgen.sweeps.grid import set_field
from jaxgen.sweeps.report import EVAL_SAMPLES, EVAL_SEED
from jaxgen.trainers import build_trainer
from jaxgen.writers import read_metrics
from tests.conftest import REPO, run_on_eight_devices, tiny_ring8

STEPS = 20


def _tiny(steps=STEPS, **train_fields):
  """tiny_ring8 without per-run sample PNGs (matplotlib dominates a tiny sweep)."""
  return tiny_ring8(steps, num_grid_samples=0, **train_fields)


def _lone_run(tmp_path, name, seed=0, **values):
  """The state of `tiny_ring8(STEPS)` with `values` set, trained alone."""
  config = tiny_ring8(STEPS)
  config.seed = seed
  for field, value in values.items():
    set_field(config, field, value)
  workdir = str(tmp_path / name)
  return train.train_and_evaluate(config, workdir), workdir


def _assert_same_state(lone, swept):
  lone, swept = (jax.tree_util.tree_flatten_with_path(jax.device_get(s))[0]
                 for s in (lone, swept))
  assert [p for p, _ in lone] == [p for p, _ in swept]
  for (_, a), (_, b) in zip(lone, swept, strict=True):
    a, b = np.asarray(a), np.asarray(b)
    chex.assert_shape(b, a.shape)
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def _differ(a, b) -> bool:
  return any(not np.allclose(x, y) for x, y in zip(jax.tree.leaves(jax.device_get(a)),
                                                    jax.tree.leaves(jax.device_get(b))))


@pytest.fixture(scope="module")
def lr_seed_sweep(tmp_path_factory):
  """optim.g.lr x 2 seeds: 4 runs in one program."""
  workdir = str(tmp_path_factory.mktemp("sweep"))
  return run_sweep(tiny_ring8(STEPS), workdir, {"optim.g.lr": [1e-3, 5e-4]}, seeds=2), workdir


def test_seed_and_lr_sweep_runs_equal_lone_runs(lr_seed_sweep, tmp_path):
  result, workdir = lr_seed_sweep
  assert [(r.seed, r.values["optim.g.lr"]) for r in result.grid.runs] == [
      (0, 1e-3), (1, 1e-3), (0, 5e-4), (1, 5e-4)]
  lone, lone_dir = _lone_run(tmp_path, "lone", 1, **{"optim.g.lr": 5e-4})
  _assert_same_state(lone, result.run_state(3))
  # Same log steps and the same logged losses as the lone run.
  swept_log = read_metrics(os.path.join(workdir, "run_3"))
  lone_log = read_metrics(lone_dir)
  assert [r["step"] for r in swept_log] == [r["step"] for r in lone_log] == [10, 20]
  for a, b in zip(swept_log, lone_log):
    np.testing.assert_allclose(a["g_loss"], b["g_loss"], rtol=1e-4)
  # The seed and the learning rate each change the outcome.
  assert _differ(result.run_state(0), result.run_state(1))
  assert _differ(result.run_state(0), result.run_state(2))


def test_penalty_weight_and_lr_sweep_equals_lone_runs(tmp_path):
  config = _tiny()
  config.loss.name = "wgan_gp"
  fields = {"optim.d.lr": [1e-3, 3e-4], "loss.penalty_weight": [1.0, 10.0]}
  result = run_sweep(config, str(tmp_path / "sweep"), fields)
  assert len(result.grid.groups) == 1 and len(result.grid.groups[0].branches) == 1
  values = result.grid.runs[2].values  # (3e-4, 1): both differ from the config's values
  assert values == {"optim.d.lr": 3e-4, "loss.penalty_weight": 1.0}
  lone, _ = _lone_run(tmp_path, "lone", 0, **{"loss.name": "wgan_gp", **values})
  _assert_same_state(lone, result.run_state(2))
  assert _differ(result.run_state(0), result.run_state(1))  # the weight has an effect


def test_loss_choice_sweep_equals_lone_runs(tmp_path):
  losses = ["ns", "hinge", "wgan_gp", "lsgan"]
  result = run_sweep(_tiny(), str(tmp_path / "sweep"), {"loss.name": losses})
  assert len(result.grid.groups) == 1  # same state shapes: one program, four branches
  for index, loss in enumerate(losses):
    lone, lone_dir = _lone_run(tmp_path, loss, 0, **{"loss.name": loss})
    _assert_same_state(lone, result.run_state(index))
    swept_keys = set(read_metrics(str(tmp_path / "sweep" / f"run_{index}"))[-1])
    assert swept_keys == set(read_metrics(lone_dir)[-1])  # e.g. the GP term only for wgan_gp


def test_shape_fields_become_separate_programs(tmp_path):
  result = run_sweep(_tiny(), str(tmp_path / "sweep"), {"model.width": [16, 32]})
  assert len(result.grid.groups) == 2
  lone, _ = _lone_run(tmp_path, "lone", 0, **{"model.width": 16})
  _assert_same_state(lone, result.run_state(0))
  chex.assert_shape(result.run_state(1).g.params["Dense_0"]["kernel"], (16, 32))


def test_summary_csv_has_one_row_per_run_with_values_and_mode_coverage(lr_seed_sweep):
  result, workdir = lr_seed_sweep
  with open(os.path.join(workdir, "summary.csv")) as f:
    rows = list(csv.DictReader(f))
  assert [(int(r["run"]), int(r["seed"]), float(r["optim.g.lr"])) for r in rows] == [
      (0, 0, 1e-3), (1, 1, 1e-3), (2, 0, 5e-4), (3, 1, 5e-4)]
  # modes_covered / high_quality_fraction are those of the run's final generator.
  branch = result.grid.groups[0].branches[0]
  dataset = branch.dataset
  for row in rows:
    state = result.run_state(int(row["run"]))
    trainer = build_trainer(tiny_ring8(STEPS), dataset.spec)
    points = trainer.sample(state, trainer.noise(jax.random.PRNGKey(EVAL_SEED), EVAL_SAMPLES))
    expected = metrics.mode_coverage(np.asarray(points), dataset.means, dataset.stds)
    assert int(row["modes_covered"]) == expected["modes_covered"]
    assert float(row["high_quality_fraction"]) == pytest.approx(
        expected["high_quality_fraction"], abs=2e-3)
    log = read_metrics(os.path.join(workdir, f"run_{row['run']}"))
    assert float(row["g_loss"]) == pytest.approx(log[-1]["g_loss"])
    assert int(row["step"]) == STEPS and row["diverged_at"] == ""
  for i in range(4):
    with open(os.path.join(workdir, f"run_{i}", "config.json")) as f:
      assert json.load(f)["seed"] == i % 2
    assert os.path.getsize(os.path.join(workdir, f"run_{i}", "samples.png")) > 0
  assert os.path.getsize(os.path.join(workdir, "sweep.png")) > 0


def test_resumed_sweep_equals_uninterrupted_sweep(tmp_path):
  fields = {"optim.d.lr": [1e-3, 5e-4]}
  straight = run_sweep(_tiny(40), str(tmp_path / "a"), fields)
  run_sweep(_tiny(20), str(tmp_path / "b"), fields)  # "killed" at step 20
  resumed = run_sweep(_tiny(40), str(tmp_path / "b"), fields)
  for i in range(2):
    for a, b in zip(jax.tree.leaves(jax.device_get(straight.run_state(i))),
                    jax.tree.leaves(jax.device_get(resumed.run_state(i))), strict=True):
      np.testing.assert_array_equal(a, b)
    assert [r["step"] for r in read_metrics(str(tmp_path / "b" / f"run_{i}"))] == [
        10, 20, 30, 40]
  with pytest.raises(ValueError, match=r"holds another sweep"):
    run_sweep(_tiny(40), str(tmp_path / "b"), {"optim.d.lr": [1e-3, 2e-4]})


@pytest.mark.parametrize("fields, seeds, message", [
    ({"model.foo": [1]}, None, r"^cannot sweep model.foo: the config has no such field$"),
    ({"model": [1]}, None, r"^cannot sweep model: it is not a scalar field$"),
    ({"train.num_steps": [10, 20]}, None,
     r"^cannot sweep train.num_steps: every run of a sweep shares the training loop"),
    ({"loss.name": ["ns", "foo"]}, None,
     r"^unknown loss.name 'foo'; choose one of: hinge, lsgan, minimax, ns, wgan, wgan_gp$"),
    ({"optim.d.lr": ["fast"]}, None, r"^sweep values of optim.d.lr must be floats, got 'fast'$"),
    ({"optim.d.lr": [1e-3, 1e-3]}, None, r"^sweep values of optim.d.lr repeat"),
    ({}, 0, r"^sweep seeds must be a positive count, got 0$"),
    ({"seed": [1, 2]}, 2, r"^give either sweep seeds \(a count\) or sweep seed"),
])
def test_bad_sweep_fields_give_one_line_errors(tmp_path, fields, seeds, message):
  with pytest.raises(ValueError, match=message) as error:
    run_sweep(tiny_ring8(STEPS), str(tmp_path / "sweep"), fields, seeds)
  assert "\n" not in str(error.value)
  assert not os.path.exists(tmp_path / "sweep")  # nothing is written before the check


def test_floats_the_trainer_branches_on_become_python_branches(tmp_path):
  config = _tiny(10)
  config.loss.name = "wgan_gp"
  # `if clip:` cannot take a tracer; a negative penalty weight is resolved in Python.
  fields = {"loss.penalty_weight": [-1.0, 10.0], "loss.clip_d_weights": [0.05]}
  result = run_sweep(config, str(tmp_path / "sweep"), fields)
  [group] = result.grid.groups
  assert len(group.branches) == 2 and all(b.traced == () for b in group.branches)
  for index in range(2):
    d_params = jax.tree.leaves(result.run_state(index).d.params)
    assert max(float(np.abs(x).max()) for x in d_params) <= 0.05 + 1e-7
  # penalty_weight -1 means the loss's own weight, 10.
  for a, b in zip(jax.tree.leaves(result.run_state(0)), jax.tree.leaves(result.run_state(1)),
                  strict=True):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)


def test_grid_orders_runs_with_seeds_innermost():
  grid = make_grid(tiny_ring8(STEPS), {"loss.name": ["ns", "hinge"], "optim.d.lr": [1e-3, 2e-3]},
                   seeds=[5, 7])
  assert [(r.values["loss.name"], r.values["optim.d.lr"], r.seed) for r in grid.runs[:3]] == [
      ("ns", 1e-3, 5), ("ns", 1e-3, 7), ("ns", 2e-3, 5)]
  [group] = grid.groups
  assert [len(b.runs) for b in group.branches] == [4, 4]
  assert group.branches[0].traced == ("optim.d.lr",)


_SHARDED = textwrap.dedent("""
    import tempfile
    import jax, numpy as np
    from jaxgen.sweeps import run_sweep
    from jaxgen.sweeps.program import choose_mesh
    from tests.conftest import tiny_ring8
    assert jax.device_count() == 8
    assert dict(choose_mesh([8], 32).shape) == {"runs": 8, "data": 1}
    assert dict(choose_mesh([2, 2], 32).shape) == {"runs": 2, "data": 4}
    assert dict(choose_mesh([3], 32).shape) == {"runs": 1, "data": 8}
    for fields, seeds in (({"optim.d.lr": [1e-3, 5e-4]}, 4),  # K=8: one run per device
                          ({}, 2)):                             # K=2: 2 runs x 4 data
      results = [run_sweep(tiny_ring8(20, num_devices=n, num_grid_samples=0),
                           tempfile.mkdtemp(), fields, seeds)
                 for n in (1, 8)]
      worst = 0.0
      for i in range(len(results[0].grid.runs)):
        a, b = (jax.tree.leaves(jax.device_get(r.run_state(i))) for r in results)
        for x, y in zip(a, b, strict=True):
          np.testing.assert_allclose(np.asarray(y), np.asarray(x), rtol=2e-4, atol=2e-5)
          worst = max(worst, float(np.max(np.abs(np.asarray(x, float) - np.asarray(y, float)))))
      kernel = jax.tree.leaves(results[1].states[0][0].g.params)[0]
      assert len(kernel.sharding.device_set) == 8, kernel.sharding
      print(fields, "max abs diff", worst)
    print("OK")
""")


def test_sweep_sharded_over_8_devices_equals_unsharded_sweep():
  result = run_on_eight_devices(_SHARDED)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "OK" in result.stdout


_TINY_FLAGS = ["--config", "configs/gan_ring8.py", "--config.model.width=32",
               "--config.train.batch_size=32", "--config.train.num_steps=20",
               "--config.train.steps_per_call=10", "--config.train.log_every=10",
               "--config.train.checkpoint_every=20", "--config.train.progress_bar=False"]


def test_cli_trains_the_grid_and_reports_bad_fields_in_one_line(tmp_path):
  workdir = str(tmp_path / "cli")
  ok = subprocess.run([sys.executable, "-m", "jaxgen.sweep", *_TINY_FLAGS, "--workdir",
                       workdir, "--sweep.seeds=2", "--sweep.optim.d.b1=0.5,0.0"],
                      cwd=REPO, capture_output=True, text=True, timeout=300)
  assert ok.returncode == 0, ok.stderr[-3000:]
  with open(os.path.join(workdir, "summary.csv")) as f:
    rows = list(csv.DictReader(f))
  assert [(r["optim.d.b1"], r["seed"]) for r in rows] == [
      ("0.5", "0"), ("0.5", "1"), ("0.0", "0"), ("0.0", "1")]
  bad = subprocess.run([sys.executable, "-m", "jaxgen.sweep", *_TINY_FLAGS, "--workdir",
                        str(tmp_path / "bad"), "--sweep.optim.d.lr=1e-3,x"],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
  assert bad.returncode == 1
  assert bad.stderr.strip().splitlines()[-1] == (
      "jaxgen.sweep: error: sweep values of optim.d.lr must be floats, got 'x'")
