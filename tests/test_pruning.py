"""Pruning library: exact sparsities, masked training, rewinding, SNIP/GraSP, early-bird, FLOPs."""

import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.flatten_util import ravel_pytree

from jaxgen import config_base, data, pruning, train
from jaxgen.checkpoint import Checkpointer
from jaxgen.optim import make_optimizer
from jaxgen.pruning import imp, masks as masks_lib
from jaxgen.trainers import build_trainer
from tests.conftest import CONFIG_DIR, load_config, tiny_dcgan


def _params(key=0):
  """A small params tree: two conv kernels, a dense kernel, biases and a norm scale."""
  k = jax.random.split(jax.random.PRNGKey(key), 4)
  return {
      "Conv_0": {"kernel": jax.random.normal(k[0], (3, 3, 2, 4)), "bias": jnp.ones(4)},
      "BatchNorm_0": {"scale": jax.random.normal(k[1], (4,)), "bias": jnp.zeros(4)},
      "Conv_1": {"kernel": jax.random.normal(k[2], (3, 3, 4, 5))},
      "Dense_0": {"kernel": jax.random.normal(k[3], (20, 3)), "bias": jnp.zeros(3)},
  }


def _masked_config(num_steps=6, **train_fields):
  config = tiny_dcgan(num_steps, **train_fields)
  config.optim.g.masked = True
  config.optim.d.masked = True
  return config


def _adam_moments(opt_state):
  """(mu, nu) of the Adam state inside a (masked, chained) optimizer state."""
  is_adam = lambda x: isinstance(x, optax.ScaleByAdamState)
  (adam,) = [x for x in jax.tree.leaves(opt_state, is_leaf=is_adam) if is_adam(x)]
  return adam.mu, adam.nu


def _leaves(tree):
  return [np.asarray(x) for x in jax.tree.leaves(tree)]


# --- masks and magnitude pruning ------------------------------------------------------


def test_default_prunable_leaves_are_the_conv_and_dense_kernels():
  names = [masks_lib.path_string(p)
           for p, _ in masks_lib.prunable_leaves(_params(), pruning.kernels)]
  assert names == ["Conv_0/kernel", "Conv_1/kernel", "Dense_0/kernel"]
  no_dense = pruning.make_prunable("kernels", exclude=("Dense_0",))
  assert len(masks_lib.prunable_leaves(_params(), no_dense)) == 2
  with pytest.raises(ValueError, match="unknown pruning.prunable 'x'; choose one of: "
                     "kernels, kernels_and_norms"):
    pruning.make_prunable("x")


def test_per_net_sparsity_honours_net_prefixed_exclude_patterns():
  # 'g/Conv_0' keeps G's first conv dense: it must leave g's sparsity, not only the total.
  ticket = {"g": pruning.ones_like(_params()), "d": pruning.ones_like(_params())}
  # G keeps only its (excluded) first conv: 100% sparse over its prunable leaves.
  ticket["g"] = jax.tree_util.tree_map_with_path(
      lambda path, m: m if "Conv_0" in jax.tree_util.keystr(path) else jnp.zeros_like(m),
      ticket["g"])
  prunable = pruning.make_prunable("kernels", exclude=("g/Conv_0",))
  n_conv0, n_rest = 3 * 3 * 2 * 4, 3 * 3 * 4 * 5 + 20 * 3
  result = imp.ticket_sparsities(ticket, ["g", "d"], prunable)
  assert result["sparsity_g"] == 1.0
  assert result["sparsity_d"] == 0.0
  assert result["sparsity"] == pytest.approx(n_rest / (n_rest + n_conv0 + n_rest))


def test_global_magnitude_pruning_hits_exact_sparsity_every_round():
  params = _params()
  mask = pruning.ones_like(params)
  n = 3 * 3 * 2 * 4 + 3 * 3 * 4 * 5 + 20 * 3
  for k in range(1, 8):
    new = pruning.magnitude_prune(params, mask, pruning.sparsity_after(k))
    kept, total = pruning.num_kept(new)
    assert total == n
    assert total - kept == round(n * (1 - 0.8 ** k))
    # Pruning never regrows, and every pruned weight is smaller than every kept one.
    for old, m in zip(_leaves(mask), _leaves(new)):
      assert not np.any(m & ~old)
    kernels = [(np.abs(np.asarray(p)), np.asarray(m)) for (path, p), m in zip(
        masks_lib.named_leaves(params), _leaves(new)) if path[-1] == "kernel"]
    pruned = np.concatenate([w[~m] for w, m in kernels])
    kept_w = np.concatenate([w[m] for w, m in kernels])
    assert pruned.max() <= kept_w.min()
    mask = new
  # Biases and norm scales are never pruned.
  assert np.all(np.asarray(mask["Conv_0"]["bias"]))
  assert np.all(np.asarray(mask["BatchNorm_0"]["scale"]))
  assert pruning.sparsity(mask) == pytest.approx(1 - 0.8 ** 7, abs=1 / n)


def test_layerwise_pruning_gives_each_layer_the_exact_sparsity():
  params = _params(1)
  mask = pruning.ones_like(params)
  for k in (1, 2, 3):
    mask = pruning.magnitude_prune(params, mask, pruning.sparsity_after(k), layerwise=True)
    for name, (kept, size) in pruning.counts(mask).items():
      assert size - kept == pruning.num_to_prune(size, 1 - 0.8 ** k), name


@pytest.mark.parametrize("layerwise", [False, True])
def test_prune_remaining_removes_a_fifth_of_the_remaining_weights(layerwise):
  params = _params(2)
  mask = pruning.ones_like(params)
  for _ in range(4):
    before = pruning.counts(mask)
    mask = pruning.prune_remaining(params, mask, 0.2, layerwise=layerwise)
    after = pruning.counts(mask)
    if layerwise:
      for name in before:
        assert before[name][0] - after[name][0] == round(0.2 * before[name][0])
    else:
      kept_before = sum(k for k, _ in before.values())
      kept_after = sum(k for k, _ in after.values())
      assert kept_before - kept_after == round(0.2 * kept_before)


def test_ties_are_broken_by_position_and_pruning_never_regrows():
  params = {"a": {"kernel": jnp.ones((2, 3))}, "b": {"kernel": jnp.ones((3, 2))}}
  mask = pruning.magnitude_prune(params, pruning.ones_like(params), 0.5)
  np.testing.assert_array_equal(mask["a"]["kernel"], np.zeros((2, 3), bool))
  np.testing.assert_array_equal(mask["b"]["kernel"], np.ones((3, 2), bool))
  with pytest.raises(ValueError, match="pruning never regrows"):
    pruning.magnitude_prune(params, mask, 0.25)
  with pytest.raises(ValueError, match=r"sparsity must lie in \[0, 1\]"):
    pruning.magnitude_prune(params, mask, 1.5)


def test_pruning_works_under_jit_and_vmap():
  params = _params(3)
  eager = pruning.magnitude_prune(params, pruning.ones_like(params), 0.5)
  jitted = jax.jit(lambda p: pruning.magnitude_prune(p, pruning.ones_like(p), 0.5))(params)
  chex.assert_trees_all_equal(eager, jitted)
  stacked = jax.tree.map(lambda *x: jnp.stack(x), _params(3), _params(4))
  batched = jax.vmap(lambda p: pruning.magnitude_prune(p, pruning.ones_like(p), 0.5))(stacked)
  chex.assert_trees_all_equal(jax.tree.map(lambda x: x[0], batched), eager)


def test_masks_round_trip_through_numpy():
  params = _params()
  mask = pruning.magnitude_prune(params, pruning.ones_like(params), 0.6)
  arrays = masks_lib.to_numpy(mask)
  assert set(arrays) >= {"Conv_0/kernel", "Dense_0/bias"}
  chex.assert_trees_all_equal(masks_lib.from_numpy(arrays, params), mask)


# --- masked optimizer inside real GAN training -----------------------------------------


def test_optimizer_keeps_a_mask_only_when_configured():
  config = tiny_dcgan()
  params = {"w": jnp.ones((2, 2))}
  assert not pruning.has_mask(make_optimizer(config.optim.g, 10).init(params))
  config.optim.g.masked = True
  state = make_optimizer(config.optim.g, 10).init(params)
  chex.assert_trees_all_equal(pruning.get_mask(state), {"w": jnp.ones((2, 2), bool)})
  with pytest.raises(ValueError, match=r"set optim.<net>.masked=True"):
    pruning.get_mask(optax.adam(1e-3).init(params))


def test_masking_mid_training_zeroes_the_moments_and_keeps_them_zero():
  config = tiny_dcgan()
  config.optim.g.masked = True
  config.optim.g.grad_clip = 1.0  # the mask wraps the whole chain
  tx = make_optimizer(config.optim.g, 100)
  params = _params()
  loss = lambda p: sum(jnp.sum(jnp.sin(x) ** 2 + x) for x in jax.tree.leaves(p))

  @jax.jit
  def step(params, opt_state):
    updates, opt_state = tx.update(jax.grad(loss)(params), opt_state, params)
    return optax.apply_updates(params, updates), opt_state

  opt_state = tx.init(params)
  for _ in range(3):  # dense steps: the moments are non-zero everywhere
    params, opt_state = step(params, opt_state)
  mask = pruning.magnitude_prune(params, pruning.ones_like(params), 0.6)
  opt_state = pruning.set_mask(opt_state, pruning.apply_mask(params, mask), mask)
  params = pruning.apply_mask(params, mask)
  before = params
  for i in range(4):
    params, opt_state = step(params, opt_state)
    mu, nu = _adam_moments(opt_state)
    for tree in (params, mu, nu):
      for x, m in zip(_leaves(tree), _leaves(mask)):
        assert np.all(x[~m] == 0.0), i
  for a, b, m in zip(_leaves(params), _leaves(before), _leaves(mask)):
    assert np.all(a[m] != b[m])  # the kept weights train


def _prune_both(state, sparsity=0.5):
  """The GAN state with G and D pruned jointly (global magnitude) at `sparsity`."""
  params = pruning.params_of(state, ("g", "d"))
  ticket = pruning.magnitude_prune(params, pruning.get_masks(state, ("g", "d")), sparsity)
  return pruning.set_masks(state, ticket), ticket


def test_rewound_ticket_trains_with_masked_weights_and_moments_exactly_zero():
  config = _masked_config()
  dataset = data.get_dataset(config.dataset)
  trainer = build_trainer(config, dataset.spec)
  step = jax.jit(trainer.train_step)
  stream = dataset.batches(config.train.batch_size, seed=0)
  batch = lambda: jax.tree.map(lambda x: x[None], next(stream))  # n_critic = 1
  fresh = trainer.init(jax.random.PRNGKey(config.seed))
  state = fresh
  for i in range(4):
    state, _ = step(state, batch())
    if i == 1:
      point = state  # the late-rewinding point: the state at step 2
  _, ticket = _prune_both(state, 0.6)  # joint global magnitude pruning of G and D
  assert pruning.sparsity(ticket) == pytest.approx(0.6, abs=1e-3)

  # Rewinding restores exactly the saved weights under the mask, with a fresh optimizer.
  rewound = pruning.rewind(fresh, point, ticket)
  for name in ("g", "d"):
    net, saved = getattr(rewound, name), getattr(point, name)
    for got, want, m in zip(_leaves(net.params), _leaves(saved.params),
                            _leaves(ticket[name])):
      np.testing.assert_array_equal(got, np.where(m, want, 0.0))
    chex.assert_trees_all_equal(net.batch_stats, saved.batch_stats)
    chex.assert_trees_all_equal(pruning.net_mask(net), ticket[name])
    mu, nu = _adam_moments(net.opt_state)
    assert all(np.all(x == 0.0) for x in _leaves(mu) + _leaves(nu))
  assert int(rewound.step) == 0
  assert np.any(_leaves(point.g.params)[0] != _leaves(fresh.g.params)[0])
  kept = pruning.rewind(fresh, point, ticket, reset_optimizer=False)
  mu, _ = _adam_moments(kept.g.opt_state)
  point_mu, _ = _adam_moments(point.g.opt_state)
  for got, want, m in zip(_leaves(mu), _leaves(point_mu), _leaves(ticket["g"])):
    np.testing.assert_array_equal(got, np.where(m, want, 0.0))

  # Real GAN train steps keep masked weights and Adam moments at exactly 0.
  state = rewound
  for _ in range(3):
    state, metrics = step(state, batch())
  assert np.isfinite(float(metrics["g_loss"]))
  for name, mask in ticket.items():
    net = getattr(state, name)
    mu, nu = _adam_moments(net.opt_state)
    chex.assert_trees_all_equal(pruning.net_mask(net), mask)
    for tree in (net.params, mu, nu):
      for x, m in zip(_leaves(tree), _leaves(mask)):
        assert np.all(x[~m] == 0.0)
    for new, old, m, moment in zip(_leaves(net.params), _leaves(getattr(rewound, name).params),
                                   _leaves(mask), _leaves(mu)):
      if m.ndim >= 2:  # the kept kernels did train
        assert np.any(new[m] != old[m]) and np.any(moment[m] != 0.0)


def test_scope_and_reinit():
  config = _masked_config()
  trainer = build_trainer(config, data.get_dataset(config.dataset).spec)
  state = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
  assert pruning.scope_nets(state, "both") == ("g", "d")
  assert pruning.scope_nets(state, "d") == ("d",)
  with pytest.raises(ValueError, match="unknown pruning.scope 'enc' for this model; "
                     "choose one of: both, g, d"):
    pruning.scope_nets(state, "enc")
  # Random re-initialisation: the ticket's mask on another seed's initial weights.
  state, other = trainer.init(jax.random.PRNGKey(0)), trainer.init(jax.random.PRNGKey(1))
  _, ticket = _prune_both(state, 0.5)
  reinit = pruning.reinit(state, other, ticket)
  for got, want, m in zip(_leaves(reinit.g.params), _leaves(other.g.params),
                          _leaves(ticket["g"])):
    np.testing.assert_array_equal(got, np.where(m, want, 0.0))


# --- baselines: random, SNIP, GraSP ------------------------------------------------------


def test_random_pruning_matches_the_per_layer_counts_of_a_mask():
  params = _params()
  mask = pruning.magnitude_prune(params, pruning.ones_like(params), 0.7)
  rand = pruning.random_like(mask, jax.random.PRNGKey(0))
  assert pruning.counts(rand) == pruning.counts(mask)
  assert not all(np.array_equal(a, b) for a, b in zip(_leaves(rand), _leaves(mask)))
  chex.assert_trees_all_equal(rand, pruning.random_like(mask, jax.random.PRNGKey(0)))


def _tiny_net_loss(params):
  x = jnp.linspace(-1.0, 1.0, 15).reshape(5, 3)
  h = jnp.tanh(x @ params["Dense_0"]["kernel"] + params["Dense_0"]["bias"])
  out = h @ params["Dense_1"]["kernel"] + params["Dense_1"]["bias"]
  return jnp.mean((out - jnp.sin(x[:, :2])) ** 2)


def _tiny_net_params():
  k = jax.random.split(jax.random.PRNGKey(7), 4)
  return jax.tree.map(lambda a: a.astype(jnp.float64), {
      "Dense_0": {"kernel": jax.random.normal(k[0], (3, 4)),
                  "bias": 0.1 * jax.random.normal(k[1], (4,))},
      "Dense_1": {"kernel": jax.random.normal(k[2], (4, 2)),
                  "bias": 0.1 * jax.random.normal(k[3], (2,))}})


def test_snip_scores_match_finite_differences():
  with jax.enable_x64(True):
    params = _tiny_net_params()
    scores = jax.jit(lambda p: pruning.snip_scores(_tiny_net_loss, p))(params)
    flat, unravel = ravel_pytree(params)
    loss = lambda vec: _tiny_net_loss(unravel(vec))
    # Central differences along each coordinate (float64: truncation error ~ eps^2).
    deltas = 1e-6 * jnp.eye(flat.size)
    fd = jax.jit(jax.vmap(lambda d: (loss(flat + d) - loss(flat - d)) / 2e-6))(deltas)
    expected = unravel(jnp.abs(fd * flat))
    chex.assert_trees_all_close(scores, expected, rtol=1e-6, atol=1e-9)
    mask = pruning.snip_mask(_tiny_net_loss, params, 0.5)
  s = np.concatenate([np.ravel(scores[k]["kernel"]) for k in ("Dense_0", "Dense_1")])
  m = np.concatenate([np.ravel(mask[k]["kernel"]) for k in ("Dense_0", "Dense_1")])
  assert m.sum() == 10 and s[~m].max() <= s[m].min()  # the most sensitive half is kept


def test_grasp_scores_match_an_explicit_hessian():
  with jax.enable_x64(True):
    params = _tiny_net_params()
    scores = jax.jit(lambda p: pruning.grasp_scores(_tiny_net_loss, p))(params)
    kernels = {k: v["kernel"] for k, v in params.items()}
    flat, unravel = ravel_pytree(kernels)

    def loss_of_kernels(vec):
      ks = unravel(vec)
      return _tiny_net_loss({k: {**params[k], "kernel": ks[k]} for k in params})

    hessian = jax.jit(jax.hessian(loss_of_kernels))(flat)
    chex.assert_shape(hessian, (flat.size, flat.size))
    hg = hessian @ jax.jit(jax.grad(loss_of_kernels))(flat)
    expected = unravel(-flat * hg)
    for k in params:
      np.testing.assert_allclose(scores[k]["kernel"], expected[k], rtol=1e-8, atol=1e-12)
      np.testing.assert_array_equal(scores[k]["bias"], 0.0)
    mask = pruning.grasp_mask(_tiny_net_loss, params, 0.25)
  s = np.concatenate([np.ravel(scores[k]["kernel"]) for k in params])
  m = np.concatenate([np.ravel(mask[k]["kernel"]) for k in params])
  assert (~m).sum() == 5 and s[~m].min() >= s[m].max()  # the highest S(-w) are removed


def test_gan_objective_scores_each_net_with_its_own_loss():
  config = tiny_dcgan()
  dataset = data.get_dataset(config.dataset)
  state = build_trainer(config, dataset.spec).init(jax.random.PRNGKey(0))
  batch = next(dataset.batches(8, seed=0))
  z = jax.random.normal(jax.random.PRNGKey(1), (8, config.model.latent_dim))
  x, y = jnp.asarray(batch["x"]), jnp.asarray(batch["y"])

  @jax.jit
  def scores(state, x, y, z):
    snip = {}
    for nets in (("g", "d"), ("g",), ("d",)):
      snip["".join(nets)] = pruning.snip_scores(
          *pruning.gan_objective("ns", state, x, y, z, nets=nets))
    return snip, pruning.grasp_scores(*pruning.gan_objective("ns", state, x, y, z))

  snip, grasp = scores(state, x, y, z)
  for name in ("g", "d"):  # joint scores are each net's scores under its own loss
    chex.assert_trees_all_close(snip["gd"][name], snip[name][name], rtol=1e-5, atol=1e-10)
  chex.assert_tree_all_finite(grasp)
  for name in ("g", "d"):
    assert all(np.any(np.asarray(x) != 0) for x in jax.tree.leaves(grasp[name])
               if np.ndim(x) >= 2)
    assert all(np.any(np.asarray(x) != 0) for x in jax.tree.leaves(snip["gd"][name])
               if np.ndim(x) >= 2)
  with pytest.raises(ValueError, match="unknown pruning.scope net 'enc'"):
    pruning.gan_objective("ns", state, x, y, z, nets=("enc",))


# --- early-bird tickets ------------------------------------------------------------------


def test_hamming_distance_is_zero_for_identical_and_one_for_complementary_masks():
  mask = pruning.magnitude_prune(_params(), pruning.ones_like(_params()), 0.5)
  assert float(pruning.hamming_distance(mask, mask)) == 0.0
  flipped = jax.tree.map(jnp.logical_not, mask)
  assert float(pruning.hamming_distance(mask, flipped)) == 1.0
  assert float(pruning.hamming_distance(mask, flipped, pruning.kernels)) == 1.0
  # Weight-magnitude early-bird masks: non-prunable leaves (all kept) dilute the distance
  # unless the comparison is restricted to the prunable ones.
  other = pruning.weight_mask(_params(1), 0.5)
  partial = float(pruning.hamming_distance(pruning.weight_mask(_params(), 0.5), other))
  restricted = float(pruning.hamming_distance(mask, other, pruning.kernels))
  assert 0.0 < partial < restricted < 1.0


def test_channel_mask_prunes_the_smallest_batchnorm_scales_globally():
  params = {"g": {"BatchNorm_0": {"scale": jnp.array([0.5, -0.1, 2.0, 0.3])},
                  "ConvTranspose_0": {"kernel": jnp.ones((4, 4, 2, 4))}},
            "d": {"BatchNorm_0": {"scale": jnp.array([-3.0, 0.05])}}}
  mask = pruning.channel_mask(params, 0.5)
  np.testing.assert_array_equal(mask["g/BatchNorm_0"], [True, False, True, False])
  np.testing.assert_array_equal(mask["d/BatchNorm_0"], [True, False])
  assert pruning.channel_density(mask) == 0.5
  with pytest.raises(ValueError, match="need BatchNorm layers"):
    pruning.channel_mask({"Dense_0": {"kernel": jnp.ones((2, 2))}}, 0.5)


def _run_search(masks, **kwargs):
  search = pruning.init_search(masks[0], **kwargs)
  step = jax.jit(pruning.search_step)
  found_at = []
  for i, m in enumerate(masks):
    search, found, distances = step(search, m)
    chex.assert_shape(distances, (5,))
    if bool(found):
      found_at.append(i)
  return found_at


def test_early_bird_search_stops_when_masks_stabilise_and_not_before():
  keys = jax.random.split(jax.random.PRNGKey(0), 40)
  rand = [{"BatchNorm_0": jax.random.bernoulli(k, 0.5, (50,))} for k in keys]
  stable = rand[3]
  # 3 unrelated masks, then the same mask: found once it and its 5 predecessors agree.
  assert _run_search(rand[:3] + [stable] * 8)[0] == 8
  # Masks that keep changing by half their entries never stop the search.
  assert _run_search(rand[:20]) == []
  # Flipping 2 of 50 channels (distance 0.04 < 0.1) counts as stable; 10 (0.2) does not.
  def flip(n, i):
    return {"BatchNorm_0": stable["BatchNorm_0"].at[i % 50:i % 50 + n].set(
        ~stable["BatchNorm_0"][i % 50:i % 50 + n])}
  assert _run_search([flip(1, 3 * i) for i in range(10)])[0] == 5
  assert _run_search([flip(10, 7 * i) for i in range(10)]) == []


# --- FLOPs ------------------------------------------------------------------------------


def _gan_layers(image_size):
  """Shapes-only GAN state and its layers (no weights are computed)."""
  config = tiny_dcgan()
  config.dataset.image_size = image_size
  spec = data.get_dataset(config.dataset).spec
  state = jax.eval_shape(build_trainer(config, spec).init, jax.random.PRNGKey(0))
  return state, pruning.gan_layers(state, config.model.latent_dim, spec.shape)


def test_dense_dcgan_flops_match_a_hand_count():
  state, layers = _gan_layers(8)
  # 8x8x1 images, width 8, latent 8. G: ConvT 1x1x8 -> 4x4x8 (k4): 1*1 * 4*4*8*8 = 1024
  # MACs; ConvT 4x4x8 -> 8x8x1 (k4 s2): 4*4 input positions * 4*4*8*1 = 2048.
  # D: Conv 8x8x1 -> 4x4x8 (k4 s2): 4*4 outputs * 4*4*1*8 = 2048; Conv 4x4x8 -> 1 (k4
  # valid): 1 * 4*4*8*1 = 128. FLOPs = 2 MACs.
  assert [layer.macs for layer in layers["g"] if layer.kind != "batchnorm"] == [1024, 2048]
  assert pruning.forward_flops(layers["g"]) == 2 * (1024 + 2048)
  assert pruning.forward_flops(layers["d"]) == 2 * (2048 + 128)
  assert pruning.gan_step_flops(10.0, 1.0) == 10 + 6 + 33
  # Pruning half the weights of the last G layer halves its FLOPs.
  mask = jax.tree.map(lambda p: np.ones(p.shape, bool), state.g.params)
  mask["ConvTranspose_1"]["kernel"][..., :4, :] = False
  assert pruning.forward_flops(layers["g"], mask) == 2 * (1024 + 1024)


def test_channel_pruning_removes_channels_of_both_adjacent_layers():
  _, layers = _gan_layers(16)
  # G at 16x16: ConvT 8 -> 16 (2048 MACs), BN, ConvT 16 -> 8 (4*4 * 4*4*16*8 = 32768),
  # BN, ConvT 8 -> 1 (8*8 * 4*4*8*1 = 8192).
  assert pruning.forward_flops(layers["g"]) == 2 * (2048 + 32768 + 8192)
  channels = {"BatchNorm_0": jnp.arange(16) < 8, "BatchNorm_1": jnp.arange(8) < 6}
  expected = 2 * (2048 / 2 + 32768 / 2 * 6 / 8 + 8192 * 6 / 8)
  assert pruning.forward_flops(layers["g"], channel_mask=channels) == pytest.approx(expected)
  both = {"g/" + k: v for k, v in channels.items()}
  assert pruning.forward_flops(layers["g"], channel_mask=both,
                               prefix="g/") == pytest.approx(expected)


# --- the IMP driver ---------------------------------------------------------------------


def _lottery_config(rounds=2, method="imp"):
  config = tiny_dcgan(4, checkpoint_every=4)
  config.pruning = config_base.pruning(rounds=rounds, method=method)
  config.pruning.rewind_step = 2
  config.pruning.quality = "pixels"
  config.pruning.pixel_samples = 100
  return config


def _npz(path):
  with np.load(path) as arrays:
    return dict(arrays)


@pytest.mark.filterwarnings("ignore:Matrix is singular")  # near-constant tiny samples
def test_imp_driver_prunes_rewinds_and_records_every_round(tmp_path):
  workdir = str(tmp_path / "imp")
  records = imp.run(_lottery_config(), workdir)
  assert [r["round"] for r in records] == [0, 1, 2]
  masks = [_npz(f"{workdir}/masks/round_{r}.npz") for r in range(3)]
  total = sum(m.size for k, m in masks[0].items() if k.endswith("kernel") and m.ndim >= 2)
  for r, (record, mask) in enumerate(zip(records, masks)):
    pruned = sum(int((~m).sum()) for m in mask.values())
    assert pruned == pruning.num_to_prune(total, 1 - 0.8 ** r)
    assert record["sparsity"] == pytest.approx(pruned / total)
    assert np.isfinite(record["fd_pixels"]) and record["wall_time_s"] > 0
  assert all(not np.any(masks[2][k] & ~masks[1][k]) for k in masks[1])  # nested
  assert records[0]["flops_ratio"] == 1.0
  assert records[2]["flops_ratio"] < records[1]["flops_ratio"] < 1.0
  assert os.path.isdir(f"{workdir}/rewind_point/checkpoints/2")
  assert os.path.exists(f"{workdir}/sparsity_vs_fd_pixels.png")
  # The trained round holds its ticket in the checkpoint (weights zero where masked).
  config = imp.masked_config(_lottery_config())
  trainer = build_trainer(config, data.get_dataset(config.dataset).spec)
  checkpointer = Checkpointer(f"{workdir}/round_2")
  state, _ = checkpointer.restore(trainer.init(jax.random.PRNGKey(0)))
  checkpointer.close()
  saved = masks_lib.to_numpy(pruning.get_masks(state))
  params = masks_lib.to_numpy(jax.tree.map(lambda p: p != 0, pruning.params_of(
      state, ("g", "d"))))
  for name, mask in masks[2].items():
    np.testing.assert_array_equal(saved[name], mask)
    assert not np.any(params[name][~mask])


def test_imp_driver_rejects_bad_settings():
  config = _lottery_config(method="lottery")
  with pytest.raises(ValueError, match="unknown pruning.method 'lottery'; choose one of: "
                     "imp, random, reinit, snip, grasp"):
    imp.validate(config)
  config = _lottery_config(method="reinit")
  with pytest.raises(ValueError, match="set pruning.reference"):
    imp.validate(config)
  config = _lottery_config()
  config.pruning.quality = "is"
  with pytest.raises(ValueError, match="unknown pruning.quality 'is'; choose one of: "
                     "eval, pixels"):
    imp.make_quality(config, None, None)
  config = _lottery_config()
  config.pruning.rewind_step = 3
  with pytest.raises(ValueError, match="pruning.rewind_step=3 must be a multiple of "
                     "train.steps_per_call=2"):
    imp.validate(config)


def test_driver_snip_ticket_has_the_target_sparsity():
  config = imp.masked_config(_lottery_config(method="snip"))
  config.pruning.saliency_batch = 16
  dataset = data.get_dataset(config.dataset)
  state = build_trainer(config, dataset.spec).init(jax.random.PRNGKey(0))
  dense = pruning.get_masks(state)
  ticket = imp._saliency_ticket(config, state, dataset, ("g", "d"), dense, 0.36,
                                pruning.kernels)
  kept, total = pruning.num_kept(ticket)
  assert total - kept == pruning.num_to_prune(total, 0.36)


def test_lottery_configs_validate():
  for name in sorted(os.listdir(os.path.join(CONFIG_DIR, "lottery"))):
    if name.endswith(".py"):
      config = load_config(os.path.join("lottery", name))
      if config.get("experiment", "") == "early_bird":
        continue  # not IMP: tests/test_early_bird_run.py validates those
      imp.validate(config)
      assert config.optim and all(config.optim[net].masked for net in config.optim), name


def test_bn_scale_l1_adds_the_sign_of_each_batchnorm_scale_only():
  # Network slimming (the early-bird search's L1): d/dgamma s*|gamma| = s*sign(gamma).
  from jaxgen.pruning.optimizer import bn_scale_l1
  params = {"BatchNorm_0": {"scale": jnp.array([1.5, -2.0, 0.0]), "bias": jnp.ones(3)},
            "Conv_0": {"kernel": -jnp.ones((2, 2))}}
  grads = jax.tree.map(jnp.zeros_like, params)
  tx = bn_scale_l1(0.1)
  updates, _ = tx.update(grads, tx.init(params), params)
  np.testing.assert_allclose(updates["BatchNorm_0"]["scale"], [0.1, -0.1, 0.0])
  np.testing.assert_array_equal(updates["BatchNorm_0"]["bias"], np.zeros(3))
  np.testing.assert_array_equal(updates["Conv_0"]["kernel"], np.zeros((2, 2)))
  # Through make_optimizer: plain SGD moves each scale by -lr * s * sign(gamma).
  block = config_base.optimizer(lr=1.0, name="sgd")
  block.bn_l1 = 0.1
  sgd = make_optimizer(block, 10)
  step, _ = sgd.update(grads, sgd.init(params), params)
  np.testing.assert_allclose(step["BatchNorm_0"]["scale"], [-0.1, 0.1, 0.0])
