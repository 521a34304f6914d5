"""Lottery tickets of a normalizing flow: IMP on Glow with the 1x1 convolutions kept dense."""

import os

import jax
import numpy as np

from jaxgen import data, pruning
from jaxgen.checkpoint import Checkpointer
from jaxgen.pruning import imp, masks as masks_lib
from jaxgen.trainers.flow import flow
from tests.conftest import load_config


def test_glow_imp_prunes_coupling_kernels_and_the_ticket_stays_invertible(tmp_path):
  config = load_config(os.path.join("lottery", "imp_glow_digits.py"))
  config.flow.update(levels=2, steps=1, width=8, lu=False)  # plain W: a 'kernel' leaf
  config.train.update(batch_size=16, num_steps=4, steps_per_call=2, log_every=2,
                      sample_every=4, checkpoint_every=4)
  config.pruning.update(rounds=1, rewind_step=2)
  workdir = str(tmp_path / "glow")
  records = imp.run(config, workdir)
  with np.load(f"{workdir}/masks/round_1.npz") as arrays:
    mask = dict(arrays)
  kernels = {k: m for k, m in mask.items() if k.endswith("/kernel") and m.ndim >= 2}
  invconv = [k for k in kernels if "InvConv1x1" in k]
  assert invconv and all(mask[k].all() for k in invconv)  # pruning.exclude keeps W dense
  total = sum(m.size for k, m in kernels.items() if k not in invconv)
  assert sum(int((~m).sum()) for m in mask.values()) == pruning.num_to_prune(total, 0.2)
  keys = list(records[1])
  assert keys[keys.index("flops_ratio") + 1] == "bpd"  # the headline: first metric
  assert records[1]["flops_net"] < records[1]["flops_net_dense"]
  assert np.isfinite(records[1]["bpd"]) and 0 < records[1]["bpd"] < 10
  # The round-1 ticket: masked weights are zero and the flow still inverts its inputs.
  config = imp.masked_config(config)
  f = flow(config, data.get_dataset(config.dataset).spec)
  checkpointer = Checkpointer(f"{workdir}/round_1")
  state, _ = checkpointer.restore(f.trainer.init(jax.random.PRNGKey(0)))
  checkpointer.close()
  params = masks_lib.to_numpy(pruning.params_of(state, ("net",)))
  for name, m in kernels.items():
    assert np.all(params[name][~m] == 0.0)
  x = data.get_dataset(config.dataset).sample(8, seed=0)["x"]
  np.testing.assert_allclose(f.reconstruct(state, x), x, atol=1e-4)
