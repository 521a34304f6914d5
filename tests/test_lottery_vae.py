"""Lottery tickets of AEs and VAEs: IMP, SNIP/GraSP on the ELBO, GAN <-> VAE ticket transfer."""

import math
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import data, pruning
from jaxgen.checkpoint import Checkpointer
from jaxgen.data import DataSpec
from jaxgen.models import dcgan
from jaxgen.pruning import imp, masks as masks_lib
from jaxgen.trainers import build_trainer
from jaxgen.trainers.autoencoder import autoencoder
from tests.conftest import load_config

pytestmark = pytest.mark.filterwarnings("ignore:Matrix is singular")  # tiny samples


def _tiny(name: str, rounds: int = 2, scope: str = "both", method: str = "imp"):
  """configs/lottery/<name> at toy size: width 8, latent 8, 4 steps, rewind to step 2."""
  config = load_config(os.path.join("lottery", name))
  config.model.width = 8
  config.model.latent_dim = 8
  config.train.update(batch_size=16, num_steps=4, steps_per_call=2, log_every=2,
                      sample_every=4, checkpoint_every=4)
  config.eval.update(feature_net="none", num_samples=32, batch_size=16)
  config.pruning.update(rounds=rounds, scope=scope, method=method, rewind_step=2,
                        saliency_batch=16, pixel_samples=100)
  return config


def _npz(path):
  with np.load(path) as arrays:
    return dict(arrays)


def _kernel_total(mask: dict, prefix: str = "") -> int:
  return sum(m.size for k, m in mask.items() if k.startswith(prefix) and m.ndim >= 2)


def _pruned(mask: dict, prefix: str = "") -> int:
  return sum(int((~m).sum()) for k, m in mask.items() if k.startswith(prefix))


def _restore(config, workdir: str):
  """The trained state of a round's workdir."""
  config = imp.masked_config(config)
  trainer = build_trainer(config, data.get_dataset(config.dataset).spec)
  checkpointer = Checkpointer(workdir)
  state, _ = checkpointer.restore(trainer.init(jax.random.PRNGKey(0)))
  checkpointer.close()
  return state


# --- IMP on a VAE and an AE ------------------------------------------------------------


def test_vae_imp_prunes_both_nets_exactly_and_trains_masked_weights_at_zero(tmp_path):
  config = _tiny("imp_vae_digits.py")
  config.pruning.metric = ""  # no feature net: the evaluator's default is the -ELBO
  workdir = str(tmp_path / "vae")
  records = imp.run(config, workdir)
  assert [r["round"] for r in records] == [0, 1, 2]
  masks = [_npz(f"{workdir}/masks/round_{r}.npz") for r in range(3)]
  assert {k.split("/")[0] for k in masks[0]} == {"enc", "g"}
  total = _kernel_total(masks[0])
  for r, (record, mask) in enumerate(zip(records, masks)):
    assert _pruned(mask) == pruning.num_to_prune(total, 1 - 0.8 ** r)
    assert record["sparsity"] == pytest.approx(1 - 0.8 ** r, abs=1 / total)
    keys = list(record)
    assert keys[keys.index("flops_ratio") + 1] == "nelbo"  # the headline: first metric
    assert np.isfinite(record["nelbo"]) and record["nelbo"] > 0
  assert os.path.exists(f"{workdir}/sparsity_vs_nelbo.png")
  # The trained round-2 VAE holds its ticket; masked weights are exactly zero.
  state = _restore(config, f"{workdir}/round_2")
  saved = masks_lib.to_numpy(pruning.get_masks(state, ("enc", "g")))
  params = masks_lib.to_numpy(pruning.params_of(state, ("enc", "g")))
  for name, mask in masks[2].items():
    np.testing.assert_array_equal(saved[name], mask)
    assert np.all(params[name][~mask] == 0.0)
    if mask.ndim >= 2 and (~mask).any():
      assert np.any(params[name][mask] != 0.0)


def test_ae_imp_prunes_only_the_scoped_encoder_and_reports_the_reconstruction_error(
    tmp_path):
  config = _tiny("imp_conv_ae_digits.py", rounds=1, scope="enc")
  workdir = str(tmp_path / "ae")
  records = imp.run(config, workdir)
  mask = _npz(f"{workdir}/masks/round_1.npz")
  assert {k.split("/")[0] for k in mask} == {"enc"}
  assert _pruned(mask) == pruning.num_to_prune(_kernel_total(mask), 0.2)
  assert records[1]["sparsity_enc"] == records[1]["sparsity"]
  assert records[1]["flops_g"] == records[1]["flops_g_dense"]  # the decoder stays dense
  assert records[1]["flops_enc"] < records[1]["flops_enc_dense"]
  assert os.path.exists(f"{workdir}/sparsity_vs_mse.png")
  assert 0 < records[1]["mse"] < 4 and "nelbo" not in records[1]


def test_headline_metric_is_selectable_and_checked():
  config = imp.masked_config(_tiny("imp_vae_digits.py"))
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  state = trainer.init(jax.random.PRNGKey(0))
  config.pruning.metric = "kl"
  quality = imp.make_quality(config, trainer, dataset)(state)
  assert next(iter(quality)) == "kl" and {"nelbo", "mse", "bpd"} <= set(quality)
  config.pruning.metric = "fid_digits"
  with pytest.raises(ValueError, match="pruning.metric 'fid_digits' is not evaluated "
                     "here; choose one of: .*nelbo"):
    imp.make_quality(config, trainer, dataset)
  config.pruning.update(metric="nelbo", quality="pixels")
  with pytest.raises(ValueError, match="set pruning.quality='eval'"):
    imp.make_quality(config, trainer, dataset)


# --- SNIP and GraSP on the ELBO ------------------------------------------------------------


def test_autoencoder_objective_is_the_training_loss_of_the_scoped_nets():
  config = _tiny("imp_vae_digits.py")
  dataset = data.get_dataset(config.dataset)
  parts = autoencoder(config, dataset.spec, variational=True)
  state = parts.trainer.init(jax.random.PRNGKey(0))
  batch = next(dataset.batches(8, seed=0))
  x, y = jnp.asarray(batch["x"]), jnp.asarray(batch["y"])
  key = jax.random.fold_in(state.key, state.step)  # the train step's noise at step 0
  loss_fn, params = pruning.autoencoder_objective(parts.loss, state, x, y, key)
  _, metrics = jax.jit(parts.trainer.train_step)(state, {"x": x[None], "y": y[None]})
  np.testing.assert_allclose(loss_fn(params), metrics["loss"], rtol=1e-5)
  assert float(metrics["loss"]) > 0  # -ELBO (beta = 1) in nats

  def scores(score_fn, nets):  # one jit per net set: one big jit compiles far slower
    fn, params = pruning.autoencoder_objective(parts.loss, state, x, y, key, nets)
    return jax.jit(lambda w: score_fn(fn, w))(params)

  snip = {"".join(nets): scores(pruning.snip_scores, nets)
          for nets in (("enc", "g"), ("g",), ("enc",))}
  grasp = scores(pruning.grasp_scores, ("enc", "g"))
  # One loss for both nets: each net's joint scores are its scores alone.
  for name in ("enc", "g"):
    chex.assert_trees_all_close(snip["encg"][name], snip[name][name], rtol=1e-4,
                                atol=1e-8)
    for tree in (snip["encg"][name], grasp[name]):
      assert all(np.any(np.asarray(s) != 0) for s in jax.tree.leaves(tree)
                 if np.ndim(s) >= 2)
  chex.assert_tree_all_finite(grasp)
  with pytest.raises(ValueError, match="unknown pruning.scope net 'd' for an AE/VAE"):
    pruning.autoencoder_objective(parts.loss, state, x, y, key, nets=("d",))


@pytest.mark.parametrize("method,nets", [("snip", ("enc", "g")), ("grasp", ("enc", "g")),
                                         ("snip", ("g",))])
def test_saliency_tickets_of_a_vae_have_the_requested_sparsity(method, nets):
  config = imp.masked_config(_tiny("imp_vae_digits.py", method=method))
  dataset = data.get_dataset(config.dataset)
  state = build_trainer(config, dataset.spec).init(jax.random.PRNGKey(0))
  dense = pruning.get_masks(state, nets)
  ticket = imp._saliency_ticket(config, state, dataset, nets, dense, 0.36, pruning.kernels)
  assert set(ticket) == set(nets)
  kept, total = pruning.num_kept(ticket)
  assert total - kept == pruning.num_to_prune(total, 0.36)


# --- GAN <-> VAE ticket transfer ----------------------------------------------------------


def _param_shapes(config, net: str, spec=None):
  spec = spec or data.get_dataset(config.dataset).spec
  state = jax.eval_shape(build_trainer(config, spec).init, jax.random.PRNGKey(0))
  return jax.tree.map(lambda x: x.shape, getattr(state, net).params)


@pytest.mark.parametrize("gan,vae", [("imp_dcgan_digits.py", "imp_vae_digits.py"),
                                     ("imp_dcgan_digits.py", "transfer_gan_to_vae_digits.py"),
                                     ("transfer_vae_to_gan_digits.py", "imp_vae_digits.py")])
def test_vae_decoder_has_the_gan_generator_param_tree(gan, vae):
  gan_config = load_config(os.path.join("lottery", gan))
  vae_config = load_config(os.path.join("lottery", vae))
  assert dcgan.output_activation(gan_config.model) == "tanh"
  assert vae_config.model.output_activation == "none"  # logits: no parameters
  chex.assert_trees_all_equal(_param_shapes(gan_config, "g"),
                              _param_shapes(vae_config, "g"))


@pytest.fixture(scope="module")
def gan_reference(tmp_path_factory):
  """A tiny GAN IMP run pruning only G (2 rounds, pixel quality): the transfer reference."""
  config = _tiny("imp_dcgan_digits.py", scope="g")
  config.pruning.quality = "pixels"
  workdir = str(tmp_path_factory.mktemp("gan") / "imp")
  imp.run(config, workdir)
  return workdir


def test_gan_ticket_transfers_to_the_vae_decoder_exactly(gan_reference, tmp_path):
  config = _tiny("transfer_gan_to_vae_digits.py", scope="g", method="transfer")
  config.pruning.reference = gan_reference
  workdir = str(tmp_path / "transfer")
  records = imp.run(config, workdir)
  assert [r["round"] for r in records] == [1, 2]
  for r, record in zip((1, 2), records):
    theirs = _npz(f"{gan_reference}/masks/round_{r}.npz")
    ours = _npz(f"{workdir}/masks/round_{r}.npz")
    assert set(theirs) == set(ours) and all(k.startswith("g/") for k in ours)
    for k in theirs:
      np.testing.assert_array_equal(ours[k], theirs[k])
    assert _pruned(ours) == pruning.num_to_prune(_kernel_total(ours), 1 - 0.8 ** r)
    assert record["sparsity_g"] == pytest.approx(1 - 0.8 ** r, abs=1 / _kernel_total(ours))
    assert record["method"] == "transfer" and record["reference"] == gan_reference
    assert "sparsity_enc" not in record and np.isfinite(record["nelbo"])
  # Trained at the VAE's own rewind point, with the GAN's G mask on the decoder only.
  assert os.path.isdir(f"{workdir}/rewind_point/checkpoints/2")
  state = _restore(config, f"{workdir}/round_2")
  theirs = _npz(f"{gan_reference}/masks/round_2.npz")
  saved = masks_lib.to_numpy({"g": pruning.net_mask(state.g)})
  params = masks_lib.to_numpy({"g": state.g.params})
  for k, mask in theirs.items():
    np.testing.assert_array_equal(saved[k], mask)
    assert np.all(params[k][~mask] == 0.0)
  assert pruning.sparsity(pruning.net_mask(state.enc)) == 0.0


def test_transfer_rejects_a_reference_of_another_architecture_or_without_the_net(
    gan_reference, tmp_path):
  config = imp.masked_config(_tiny("transfer_gan_to_vae_digits.py", method="transfer"))
  config.pruning.reference = gan_reference
  config.pruning.scope = "both"  # the GAN run pruned only g: it has no encoder masks
  with pytest.raises(ValueError, match=r"^pruning.reference '.*' has no masks for net "
                     r"'enc' \(it has: g\); set pruning.scope to a net it pruned$"):
    imp.run(config, str(tmp_path / "both"))
  config.pruning.scope = "g"
  config.model.width = 16  # another architecture: every conv kernel differs
  with pytest.raises(ValueError, match=r"^pruning.reference masks do not match net 'g': "
                     r"leaf 'BatchNorm_0/bias' has shape \(16,\) in .*round_1.npz, "
                     r"\(32,\) here$"):
    imp.run(config, str(tmp_path / "wide"))
  assert not os.path.exists(str(tmp_path / "wide" / "round_1"))  # failed before training
  config = _tiny("transfer_gan_to_vae_digits.py", method="transfer")
  config.model.name = "mlp"  # another tree: a leaf missing from the reference
  dataset = data.get_dataset(config.dataset)
  like = {"g": pruning.ones_like(jax.eval_shape(
      build_trainer(config, dataset.spec).init, jax.random.PRNGKey(0)).g.params)}
  config.pruning.reference = gan_reference
  with pytest.raises(ValueError, match="do not match net 'g': leaf 'Dense_0/bias' is "
                     "missing from"):
    imp.reference_ticket(config, 1, like)
  config.pruning.reference = str(tmp_path / "nowhere")
  with pytest.raises(ValueError, match="pruning.reference has no masks for round 1"):
    imp.reference_ticket(config, 1, like)
  config.pruning.reference = ""
  with pytest.raises(ValueError, match="'transfer' reuses IMP's masks: set "
                     "pruning.reference"):
    imp.validate(config)


# --- the paper's linear autoencoder -------------------------------------------------------


def test_linear_ae_has_the_paper_layer_sizes():
  config = load_config("lottery/imp_linear_ae_digits.py")
  mnist = DataSpec("mnist", (28, 28, 1), 10, "image")
  enc, dec = _param_shapes(config, "enc", mnist), _param_shapes(config, "g", mnist)
  widths = [784, 128, 64, 12, 3]
  assert [enc[f"Dense_{i}"]["kernel"] for i in range(4)] == list(zip(widths, widths[1:]))
  back = widths[::-1]
  assert [dec[f"Dense_{i}"]["kernel"] for i in range(4)] == list(zip(back, back[1:]))
  count = lambda tree: sum(math.prod(s) for s in jax.tree.leaves(
      tree, is_leaf=lambda x: isinstance(x, tuple)))
  assert count(enc) + count(dec) == 219_891  # the paper's ~219K
  digits = DataSpec("digits", (16, 16, 1), 10, "image")
  assert count(_param_shapes(config, "enc", digits)) + count(
      _param_shapes(config, "g", digits)) == 84_195  # 256-128-64-12-3, mirrored
  # Without hidden_sizes the MLP keeps its width x depth layers (the parameter tree of
  # every other config is unchanged).
  ring = load_config("gan_ring8")
  assert _param_shapes(ring, "g")["Dense_1"]["kernel"] == (128, 128)
