"""Early-bird channel tickets: narrower DCGANs, sliced weights, the on_step hook, the driver."""

import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import config_base, data, pruning, train
from jaxgen.checkpoint import Checkpointer
from jaxgen.pruning import channels, early_bird_run
from jaxgen.trainers import build_trainer
from tests.conftest import load_config, tiny_dcgan

# 16x16 digits, width 8: G's hidden convs have 16, 8 channels (BatchNorm_0, _1); D's
# 8 (Conv_0, no norm), 16 (Conv_1 -> BatchNorm_0).
HAND_MASK = {"g/BatchNorm_0": np.arange(16) % 2 == 0,              # keeps 8 of 16
             "g/BatchNorm_1": np.isin(np.arange(8), [1, 6]),       # keeps 2 of 8
             "d/BatchNorm_0": np.isin(np.arange(16), [0, 5, 9, 15])}  # keeps 4 of 16


def _config(num_steps=6, **train_fields):
  config = tiny_dcgan(num_steps, **train_fields)
  config.dataset.image_size = 16
  return config


def _trainer(config):
  dataset = data.get_dataset(config.dataset)
  return build_trainer(config, dataset.spec), dataset


def _perturbed(state, seed=1):
  """`state` with every weight and BatchNorm statistic moved off its initial value."""
  def move(tree, key):
    leaves, treedef = jax.tree.flatten(tree)
    keys = jax.random.split(key, len(leaves))
    return treedef.unflatten([x + 0.3 * jax.random.normal(k, x.shape)
                              for x, k in zip(leaves, keys)])

  keys = jax.random.split(jax.random.PRNGKey(seed), 4)
  nets = {}
  for net, k_params, k_stats in (("g", keys[0], keys[1]), ("d", keys[2], keys[3])):
    old = getattr(state, net)
    stats = move(old.batch_stats, k_stats)
    stats = {name: {"mean": s["mean"], "var": jnp.abs(s["var"]) + 0.5}
             for name, s in stats.items()}
    nets[net] = old.replace(params=move(old.params, k_params), batch_stats=stats)
  return state.replace(**nets)


def _zero_pruned(params, mask):
  """The dense nets with the pruned channels' BatchNorm scale and bias set to 0."""
  params = jax.tree.map(np.array, params)
  for path, m in mask.items():
    net, norm = path.split("/")
    for name in ("scale", "bias"):
      params[net][norm][name] = np.where(m, params[net][norm][name], 0.0)
  return params


def _outputs(state, params, z, x, y, train_mode):
  """G(z) and D(x) of `state`'s nets with `params`, in eval or training mode."""
  outs = []
  for net, inputs in (("g", z), ("d", x)):
    variables = {"params": params[net], "batch_stats": getattr(state, net).batch_stats}
    fn = getattr(state, net).apply_fn
    if train_mode:
      outs.append(fn(variables, inputs, y, train=True, mutable=["batch_stats"])[0])
    else:
      outs.append(fn(variables, inputs, y, train=False))
  return outs


def test_sliced_narrow_net_computes_the_dense_net_with_pruned_channels_zeroed():
  config = _config()
  trainer, dataset = _trainer(config)
  dense = _perturbed(trainer.init(jax.random.PRNGKey(0)))
  kept = channels.kept_channels(HAND_MASK)
  narrow_config = channels.shrunk_config(config, kept, dataset.spec)
  assert narrow_config.model.g_channels == (8, 2)
  assert narrow_config.model.d_channels == (8, 4)
  assert config.model.g_channels == ()  # the dense config is untouched
  narrow_trainer, _ = _trainer(narrow_config)
  narrow = channels.load_sliced(narrow_trainer.init(jax.random.PRNGKey(5)),
                                channels.slice_state(dense, kept))
  chex.assert_shape(narrow.g.params["ConvTranspose_0"]["kernel"], (4, 4, 8, 8))
  chex.assert_shape(narrow.g.params["ConvTranspose_1"]["kernel"], (4, 4, 8, 2))
  chex.assert_shape(narrow.g.params["ConvTranspose_2"]["kernel"], (4, 4, 2, 1))
  chex.assert_shape(narrow.g.batch_stats["BatchNorm_1"]["var"], (2,))
  chex.assert_shape(narrow.d.params["Conv_0"]["kernel"], (4, 4, 1, 8))
  chex.assert_shape(narrow.d.params["Conv_1"]["kernel"], (4, 4, 8, 4))
  chex.assert_shape(narrow.d.params["Conv_2"]["kernel"], (4, 4, 4, 1))
  dense_mean = np.asarray(dense.d.batch_stats["BatchNorm_0"]["mean"])
  np.testing.assert_array_equal(narrow.d.batch_stats["BatchNorm_0"]["mean"],
                                dense_mean[[0, 5, 9, 15]])

  zeroed = _zero_pruned({"g": dense.g.params, "d": dense.d.params}, HAND_MASK)
  z = jax.random.normal(jax.random.PRNGKey(2), (8, config.model.latent_dim))
  x = jnp.asarray(dataset.sample(8, seed=0)["x"])
  y = jnp.zeros((8,), jnp.int32)
  for train_mode in (False, True):  # running statistics, then batch statistics
    want = _outputs(dense, zeroed, z, x, y, train_mode)
    got = _outputs(narrow, {"g": narrow.g.params, "d": narrow.d.params}, z, x, y,
                   train_mode)
    for a, b in zip(got, want):
      chex.assert_equal_shape((a, b))
      np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
  # Zeroing matters: the untouched dense nets give other outputs.
  plain = _outputs(dense, {"g": dense.g.params, "d": dense.d.params}, z, x, y, False)
  assert not np.allclose(plain[0], want[0], atol=1e-3)


def test_narrow_dcgan_has_exactly_the_channel_pruned_flops():
  config = _config()
  trainer, dataset = _trainer(config)
  dense = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
  narrow_config = channels.shrunk_config(config, channels.kept_channels(HAND_MASK),
                                         dataset.spec)
  narrow = jax.eval_shape(_trainer(narrow_config)[0].init, jax.random.PRNGKey(0))
  dense_layers = pruning.gan_layers(dense, 8, dataset.spec.shape)
  narrow_layers = pruning.gan_layers(narrow, 8, dataset.spec.shape)
  # MACs. G: ConvT 1x1x8 -> 4x4x16: 16*16*8 * (8/16); ConvT -> 8x8x8: 16 * 16*16*8 *
  # (8/16 * 2/8); ConvT -> 16x16x1: 64 * 16*8 * (2/8). D: Conv 16x16x1 -> 8x8x8: 64 *
  # 16*8 (no norm: kept); Conv -> 4x4x16: 16 * 16*8*16 * (4/16); Conv 4x4 valid -> 1:
  # 16*16 * (4/16).
  g_macs, g_dense = 1024 + 4096 + 2048, 2048 + 32768 + 8192
  d_macs, d_dense = 8192 + 8192 + 64, 8192 + 32768 + 256
  assert pruning.forward_flops(narrow_layers["g"]) == 2 * g_macs
  assert pruning.forward_flops(narrow_layers["d"]) == 2 * d_macs
  assert pruning.forward_flops(dense_layers["g"]) == 2 * g_dense
  assert pruning.forward_flops(dense_layers["d"]) == 2 * d_dense
  ratio = sum(pruning.forward_flops(l) for l in narrow_layers.values()) / sum(
      pruning.forward_flops(l) for l in dense_layers.values())
  assert ratio == pytest.approx((g_macs + d_macs) / (g_dense + d_dense))
  # The narrow net costs what the FLOPs count of the masked dense net predicts.
  for net in ("g", "d"):
    assert pruning.forward_flops(dense_layers[net], channel_mask=HAND_MASK,
                                 prefix=f"{net}/") == pytest.approx(
                                     pruning.forward_flops(narrow_layers[net]))


def test_every_layer_keeps_a_channel_and_bad_channel_settings_fail_in_one_line():
  mask = {**HAND_MASK, "g/BatchNorm_1": np.zeros(8, bool)}
  scales = {"g/BatchNorm_1": np.array([0.1, -0.2, 3.0, -4.0, 0.0, 1.0, 2.0, 0.5])}
  assert channels.kept_channels(mask, scales)["g/BatchNorm_1"].tolist() == [3]
  assert channels.kept_channels(mask)["g/BatchNorm_1"].tolist() == [0]

  config = _config()
  config.model.g_channels = (8,)
  with pytest.raises(ValueError, match=r"^model.g_channels must list 2 positive channel "
                     r"counts .*got \[8\]$"):
    _trainer(config)
  config = _config()
  config.model.d_channels = (8, 16, 32)
  with pytest.raises(ValueError, match=r"^model.d_channels must list 2 positive"):
    _trainer(config)
  # Explicit channels equal to the defaults give the same parameters, bit for bit.
  config.model.d_channels = (8, 16)
  config.model.g_channels = (16, 8)
  chex.assert_trees_all_equal(_trainer(config)[0].init(jax.random.PRNGKey(0)).g.params,
                              _trainer(_config())[0].init(jax.random.PRNGKey(0)).g.params)

  config = _config()
  config.model.d_norm = "spectral"
  with pytest.raises(ValueError, match=r"^early-bird channel tickets support "
                     r"model.name='dcgan' .*model.d_norm='spectral'"):
    channels.check_supported(config.model)
  config = _config()
  config.early_bird = config_base.early_bird(every=3)
  with pytest.raises(ValueError, match=r"early_bird.every=3 must be a positive multiple "
                     r"of train.steps_per_call=2"):
    early_bird_run.validate(config)
  config.early_bird = config_base.early_bird(every=4)
  config.early_bird.update(dict(budget="rest", init="init"))
  with pytest.raises(ValueError, match=r"^early_bird.budget='rest' continues the weights"):
    early_bird_run.validate(config)
  config.early_bird.budget = "half"
  with pytest.raises(ValueError, match=r"^unknown early_bird.budget 'half'; choose one of: "
                     r"full, rest"):
    early_bird_run.validate(config)
  config = load_config("lottery/early_bird_dcgan_digits")
  early_bird_run.validate(config)
  assert config.experiment == "early_bird" and config.early_bird.baseline


def test_on_step_returning_true_stops_training_with_a_checkpoint_there(workdir):
  config = tiny_dcgan(20, checkpoint_every=100, log_every=100, sample_every=100)
  seen = []

  def on_step(state, step):
    seen.append((step, int(state.step)))
    return step == 6

  state = train.train_and_evaluate(config, workdir, on_step=on_step)
  assert seen == [(2, 2), (4, 4), (6, 6)]
  assert int(state.step) == 6
  checkpointer = Checkpointer(workdir)
  assert checkpointer.latest_step() == 6
  checkpointer.close()
  with open(os.path.join(workdir, "metrics.jsonl"), encoding="utf-8") as f:
    assert [json.loads(l)["step"] for l in f if l.strip()] == [6]


@pytest.mark.filterwarnings("ignore:Matrix is singular")  # near-constant tiny samples
def test_driver_finds_shrinks_and_trains_a_cheaper_ticket_and_resumes(tmp_path):
  config = _config(24, steps_per_call=4, checkpoint_every=100, sample_every=100,
                   log_every=100)
  config.experiment = "early_bird"
  config.early_bird = config_base.early_bird()
  config.early_bird.update(dict(every=4, lookback=2, threshold=1.01, baseline=True,
                                quality="pixels", pixel_samples=100))
  workdir = str(tmp_path / "eb")
  record = early_bird_run.run(config, workdir)
  # threshold > 1 accepts any mask once `lookback` earlier ones exist: the third, step 12.
  assert record["eb_step"] == 12 and record["found"]
  assert [d["step"] for d in record["distances"]] == [4, 8, 12]
  assert [len(d["distances"]) for d in record["distances"]] == [0, 1, 2]
  assert record["channel_density"] == 0.5
  assert record["flops_g"] + record["flops_d"] < record["flops_g_dense"] + record["flops_d_dense"]
  assert record["flops_ratio"] < 1.0 and record["params_ticket"] < record["params_dense"]
  dense_step = pruning.gan_step_flops(record["flops_g_dense"], record["flops_d_dense"])
  ticket_step = pruning.gan_step_flops(record["flops_g"], record["flops_d"])
  assert record["train_flops_dense"] == 24 * dense_step * 16  # steps * step * batch
  assert record["train_flops_eb"] == (12 * dense_step + 24 * ticket_step) * 16
  assert np.isfinite(record["ticket"]["fd_pixels"])
  assert np.isfinite(record["dense"]["fd_pixels"]) and record["dense"]["wall_time_s"] > 0
  assert record["search_wall_time_s"] > 0 and record["ticket_wall_time_s"] > 0
  with open(os.path.join(workdir, "early_bird.json"), encoding="utf-8") as f:
    assert json.load(f)["g_channels"] == record["g_channels"]
  for sub, step in (("search", 12), ("ticket", 24), ("dense", 24)):
    checkpointer = Checkpointer(os.path.join(workdir, sub))
    assert checkpointer.latest_step() == step, sub
    checkpointer.close()
  # The ticket checkpoint is the narrow model.
  narrow_config = config.copy_and_resolve_references()
  narrow_config.model.g_channels = tuple(record["g_channels"])
  narrow_config.model.d_channels = tuple(record["d_channels"])
  trainer, _ = _trainer(narrow_config)
  checkpointer = Checkpointer(os.path.join(workdir, "ticket"))
  state, _ = checkpointer.restore(trainer.init(jax.random.PRNGKey(0)))
  checkpointer.close()
  chex.assert_shape(state.g.params["ConvTranspose_1"]["kernel"],
                    (4, 4, record["g_channels"][0], record["g_channels"][1]))
  # Re-running reads everything back: no search or training is redone.
  again = early_bird_run.run(config, workdir)
  for key in ("eb_step", "g_channels", "d_channels", "search_wall_time_s",
              "ticket_wall_time_s", "flops_ratio"):
    assert again[key] == record[key], key
  assert again["dense"]["wall_time_s"] == record["dense"]["wall_time_s"]
  config.early_bird.ratio = 0.25
  with pytest.raises(ValueError, match="holds a search with other settings"):
    early_bird_run.run(config, workdir)
