"""Whole-config validation (jaxgen/config_check.py): types from config_base's defaults,
ranges and choices from config_base.RULES, one line naming the field."""

import glob
import json
import os

import ml_collections
import pytest

from jaxgen import config_base, config_check, train
from jaxgen import config_rules as r
from jaxgen.errors import ConfigError
from tests.conftest import CONFIG_DIR, load_config

CONFIGS = sorted(os.path.relpath(p, CONFIG_DIR)
                 for p in glob.glob(os.path.join(CONFIG_DIR, "**", "*.py"), recursive=True)
                 if not os.path.basename(p).startswith("_"))


def _set(config, path, value):
  """Sets a dotted field the way a config file does (no type-safe cast: types are ours)."""
  *blocks, field = path.split(".")
  block = config
  for name in blocks:
    block = block[name]
  with block.ignore_type():
    block[field] = value


# (config, dotted field, bad value, the error line's start). Every line must name the field.
BAD = [
    ("default", "train.n_critic", 0, "train.n_critic must be positive, got 0"),
    ("default", "train.n_critic", "2", "train.n_critic must be an int"),
    ("default", "train.n_critic", 1.5, "train.n_critic must be an int"),
    ("default", "train.batch_size", -8, "train.batch_size must be positive"),
    ("default", "train.num_steps", 1005, "train.num_steps=1005 must be a multiple of "
                                         "train.steps_per_call=10"),
    ("default", "train.ema_decay", 1.0, "train.ema_decay must be in [0.0, 1.0)"),
    ("default", "train.progress_bar", "yes", "train.progress_bar must be a bool"),
    ("default", "train.diffaug", "color,flip", "unknown train.diffaug 'flip'; choose one of: "
                                               "color, cutout, translation"),
    ("default", "seed", -1, "seed must be >= 0"),
    ("default", "trainer", "gann", "unknown trainer 'gann'; choose one of:"),
    ("default", "model.name", "dcgann", "unknown model.name 'dcgann'; choose one of:"),
    ("default", "model.g_norm", "bn", "unknown model.g_norm 'bn'; choose one of: batch,"),
    ("default", "model.cond", "aux", "unknown model.cond 'aux'; choose one of: '', concat"),
    ("default", "model.g_channels", (32, 0), "model.g_channels must be a tuple of positive"),
    ("default", "model.latent_dim", 0, "model.latent_dim must be positive"),
    ("default", "loss.name", "gan", "unknown loss.name 'gan'; choose one of:"),
    ("default", "loss.penalty", "r1,r3", "unknown loss.penalty 'r3'; choose one of: auto,"),
    ("default", "optim.g.lr", -1e-4, "optim.g.lr must be >= 0"),
    ("default", "optim.d.b1", 1.5, "optim.d.b1 must be in [0.0, 1.0)"),
    ("default", "optim.d.name", "adagrad", "unknown optim.d.name 'adagrad'; choose one of:"),
    ("default", "dataset.name", "cifar", "unknown dataset.name 'cifar'; choose one of:"),
    ("default", "dataset.image_size", -1, "dataset.image_size must be >= 0"),
    ("default", "eval.truncation", -0.5, "eval.truncation must be >= 0 (0 = off)"),
    ("default", "eval.best_mode", "up", "unknown eval.best_mode 'up'; choose one of: auto"),
    ("default", "eval", 3, "eval must be a config block"),
    ("vae_digits", "loss.likelihood", "poisson", "unknown loss.likelihood 'poisson'"),
    ("vae_digits", "loss.decoder_std", 0.0, "loss.decoder_std must be positive"),
    ("vae_digits", "optim.enc.lr", "fast", "optim.enc.lr must be a number"),
    ("lottery/imp_dcgan_digits", "pruning.fraction", 1.0, "pruning.fraction must be in "
                                                          "(0.0, 1.0)"),
    ("lottery/imp_dcgan_digits", "pruning.rounds", "5", "pruning.rounds must be an int"),
    ("lottery/early_bird_dcgan_digits", "early_bird.budget", "half",
     "unknown early_bird.budget 'half'; choose one of: full, rest"),
    ("lottery/early_bird_dcgan_digits", "early_bird.ratio", 0.0, "early_bird.ratio must be "
                                                                 "in (0.0, 1.0)"),
]


@pytest.mark.parametrize("name, field, value, message", BAD)
def test_a_bad_field_is_one_config_error_line_naming_it(name, field, value, message):
  config = load_config(name)
  config_check.validate(config)  # the config itself is fine
  _set(config, field, value)
  with pytest.raises(ConfigError) as error:
    config_check.validate(config)
  assert str(error.value).startswith(message), str(error.value)
  assert field in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("name", CONFIGS)
def test_every_config_in_configs_passes_validation(name):
  config = load_config(name)
  assert config_check.validate(config) is config


def test_ints_pass_for_floats_and_lists_for_tuples():
  # Built from a dict (as from a config.json): ConfigDict assignment would cast the values.
  fields = config_base.base_config().to_dict()
  fields["optim"]["g"]["lr"] = 1
  fields["model"]["g_channels"] = [32, 16]
  config_check.validate(ml_collections.ConfigDict(fields))
  fields["optim"]["g"]["lr"] = True  # a bool is not a number here
  with pytest.raises(ConfigError, match=r"^optim.g.lr must be a number"):
    config_check.validate(ml_collections.ConfigDict(fields))


def test_n_critic_zero_stops_training_before_anything_is_built(tmp_path):
  """The issue's example: today it ended in an IndexError inside train.py."""
  config = load_config("default")
  config.train.n_critic = 0
  with pytest.raises(ConfigError, match=r"^train.n_critic must be positive, got 0$"):
    train.train_and_evaluate(config, str(tmp_path / "run"))
  assert not os.path.exists(tmp_path / "run" / "checkpoints")


def test_a_new_block_is_type_checked_against_its_config_base_function(monkeypatch):
  """Blocks added by other modules work unknown to config_check: `config.<name>` is
  checked against config_base.<name>(), and `rules(...)` next to it adds ranges."""
  monkeypatch.setattr(config_base, "toy_flow", lambda: ml_collections.ConfigDict(
      dict(depth=4, coupling="affine", noise=0.1)), raising=False)
  config = config_base.base_config()
  config.toy_flow = ml_collections.ConfigDict(dict(depth=0, coupling="affine", noise=1))
  config_check.validate(config)  # no rules yet: the types (an int for a float) pass
  monkeypatch.setattr(config_base, "RULES", dict(config_base.RULES))
  config_base.rules("toy_flow", depth=r.positive(), coupling=r.one_of("affine", "additive"))
  with pytest.raises(ConfigError, match=r"^toy_flow.depth must be positive, got 0$"):
    config_check.validate(config)
  config.toy_flow.depth = 2
  config.toy_flow.coupling = "spline"
  with pytest.raises(ConfigError, match=r"^unknown toy_flow.coupling 'spline'; choose one "
                                        r"of: affine, additive$"):
    config_check.validate(config)
  with config.toy_flow.ignore_type():
    config.toy_flow.coupling = 3
  with pytest.raises(ConfigError, match=r"^toy_flow.coupling must be a string"):
    config_check.validate(config)


def test_fields_without_a_default_are_listed_not_rejected():
  config = config_base.base_config()
  config.train.n_critc = 5  # a typo: no default anywhere
  config.extra = ml_collections.ConfigDict(dict(a=1))
  config_check.validate(config)
  assert config_check.unknown_fields(config) == ["extra", "train.n_critc"]
  assert config_check.unknown_fields(load_config("default")) == []


def test_a_saved_config_missing_newer_fields_gets_their_defaults():
  """What jaxgen.evaluate does with an older run's config.json."""
  saved = json.loads(load_config("vae_digits").to_json_best_effort())
  del saved["train"]["num_grid_samples"], saved["model"]["embed_dim"]
  del saved["loss"]["num_bins"], saved["experiment"]
  saved["model"]["width"] = 12
  config = config_base.with_defaults(saved)
  assert config.train.num_grid_samples == -1 and config.model.embed_dim == 128
  assert config.loss.num_bins == 256 and config.experiment == ""
  assert config.model.width == 12 and config.loss.likelihood == "bernoulli"
  assert "penalty" not in config.loss  # a VAE's loss block is the autoencoder one
  config_check.validate(config)


def test_every_run_of_a_sweep_is_checked_before_anything_is_written(tmp_path):
  from jaxgen.sweeps import run_sweep  # pylint: disable=import-outside-toplevel
  from tests.conftest import tiny_ring8  # pylint: disable=import-outside-toplevel
  with pytest.raises(ConfigError, match=r"^train.n_critic must be positive, got 0$"):
    run_sweep(tiny_ring8(20), str(tmp_path / "sweep"), {"train.n_critic": [1, 0]}, 1)
  assert not os.path.exists(tmp_path / "sweep")
