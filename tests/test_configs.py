"""Every config in configs/ parses, finds its data and builds models of the right shapes."""

import glob
import os
import shutil

import chex
import jax
import jax.numpy as jnp
import pytest
import tensorflow_datasets as tfds

from jaxgen import data, train
from jaxgen.trainers import build_trainer
from tests.conftest import CONFIG_DIR, load_config

# Every config, with the experiments' subfolders (e.g. 'lottery/imp_vae_digits.py'; select
# them with -k lottery): a lottery run trains each round with train_and_evaluate.
CONFIGS = sorted(os.path.relpath(p, CONFIG_DIR)
                 for p in glob.glob(os.path.join(CONFIG_DIR, "**", "*.py"), recursive=True)
                 if not os.path.basename(p).startswith("_"))


def test_the_issue_configs_exist():
  assert {"default.py", "dcgan_digits.py", "dcgan_fashion_mnist.py", "dcgan_cifar10.py",
          "gan_ring8.py", "gan_grid25.py"} <= set(CONFIGS)


def _data(config):
  # Fashion-MNIST itself, or domains built from it (fashion_mnist_m, rotated, label shift).
  if "fashion" in config.dataset.to_json() and not os.path.isdir(
      "/usr/share/datasets/fashion-mnist"):
    pytest.skip("apt-get install dataset-fashion-mnist (CI installs it)")


@pytest.mark.parametrize("name", CONFIGS)
def test_config_builds_a_trainer_with_the_data_shapes(name):
  config = load_config(name)
  assert config.train.num_steps % config.train.steps_per_call == 0
  _data(config)
  # Trainers may read data when built, initialised or sampled (a flow's actnorm init, a
  # classifier's held-out grid): all of it runs on mocked TFDS data.
  with tfds.testing.mock_data(num_examples=8):
    dataset = data.get_dataset(config.dataset)
    batch = next(dataset.batches(4, seed=0))
    chex.assert_shape(batch["x"], (4,) + dataset.spec.shape)
    trainer = build_trainer(config, dataset.spec)
    state = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))  # shapes only: fast
    stacked = {k: jnp.stack([v] * trainer.batches_per_step) for k, v in batch.items()}
    new_state, metrics = jax.eval_shape(trainer.train_step, state, stacked)
    chex.assert_trees_all_equal_shapes_and_dtypes(new_state, state)
    assert all(m.shape == () for m in jax.tree.leaves(metrics))
    samples = jax.eval_shape(trainer.sample, state, trainer.noise(jax.random.PRNGKey(0), 4))
    chex.assert_shape(samples, (4,) + dataset.spec.shape)


def _tiny(config):
  """The config at toy size: narrow nets, small images, 4 steps with a checkpoint at 2."""
  if config.dataset.get("image_size", 0):
    config.dataset.image_size = 16
  config.model.width = 8
  if "d_width" in config.model:
    config.model.d_width = 8
  if config.model.get("attention_res", 0):
    config.model.attention_res = 8
  if "embed_dim" in config.model:
    config.model.embed_dim = 8
  if "flow" in config:  # flows have their own architecture block
    config.flow.update(width=8, steps=1, levels=2)
  if "classifier" in config:  # so do classifiers (WRN-32-10 -> WRN-10-1, 8 channels)
    config.classifier.update(depth=10, widen=1, width=8)
  if "attack" in config:  # PGD-AT / IAAT: a 2-step attack
    config.attack.steps = 2
  for block in config.optim.values():  # a warm-up longer than the 4 steps cannot decay
    block.warmup_steps = 0
  config.train.update(batch_size=8, num_steps=4, steps_per_call=2, log_every=2,
                      sample_every=4, checkpoint_every=2, progress_bar=False)
  if "eval" in config:
    config.eval.every = 0
  return config


@pytest.mark.parametrize("name", CONFIGS)
def test_config_trains_checkpoints_and_resumes(name, tmp_path):
  config = _tiny(load_config(name))
  _data(config)
  workdir = str(tmp_path / "run")
  with tfds.testing.mock_data(num_examples=16):
    full = jax.device_get(jax.tree.leaves(train.train_and_evaluate(config, workdir)))
    # Lose the last checkpoint (as if preempted after step 2); the rerun resumes from it.
    shutil.rmtree(os.path.join(workdir, "checkpoints", "4"))
    resumed = jax.device_get(jax.tree.leaves(train.train_and_evaluate(config, workdir)))
  chex.assert_trees_all_equal(full, resumed)
