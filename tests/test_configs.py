"""Every config in configs/ parses, finds its data and builds models of the right shapes."""

import glob
import os

import chex
import jax
import jax.numpy as jnp
import pytest
import tensorflow_datasets as tfds

from jaxgen import data
from jaxgen.models import build_gan
from jaxgen.trainers import build_trainer
from tests.conftest import CONFIG_DIR, load_config

CONFIGS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(CONFIG_DIR, "*.py"))
                 if not os.path.basename(p).startswith("_"))


def test_the_issue_configs_exist():
  assert {"default.py", "dcgan_digits.py", "dcgan_fashion_mnist.py", "dcgan_cifar10.py",
          "gan_ring8.py", "gan_grid25.py"} <= set(CONFIGS)


@pytest.mark.parametrize("name", CONFIGS)
def test_config_builds_models_with_the_data_shapes(name):
  config = load_config(name)
  assert config.train.num_steps % config.train.steps_per_call == 0
  if config.dataset.name == "fashion_mnist" and not os.path.isdir(
      "/usr/share/datasets/fashion-mnist"):
    pytest.skip("apt-get install dataset-fashion-mnist (CI installs it)")
  with tfds.testing.mock_data(num_examples=8):
    dataset = data.get_dataset(config.dataset)
    batch = next(dataset.batches(4, seed=0))
  chex.assert_shape(batch["x"], (4,) + dataset.spec.shape)
  trainer = build_trainer(config, dataset.spec)
  state = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))  # shapes only: fast
  models = build_gan(config.model, dataset.spec)
  z = jnp.zeros((4, models.latent_dim))
  y = jnp.zeros((4,), jnp.int32)
  variables = {"params": state.g.params, "batch_stats": state.g.batch_stats}
  fake = jax.eval_shape(lambda v: models.generator.apply(v, z, y, train=False), variables)
  chex.assert_shape(fake, (4,) + dataset.spec.shape)
  variables = {"params": state.d.params, "batch_stats": state.d.batch_stats}
  logits = jax.eval_shape(
      lambda v: models.discriminator.apply(v, batch["x"], y, train=False), variables)
  chex.assert_shape(logits, (4,))
