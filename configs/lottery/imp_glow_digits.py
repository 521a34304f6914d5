"""Lottery tickets of Glow on the embedded digits (8x8, 17 levels): IMP on a flow.

    python -m jaxgen.main --config configs/lottery/imp_glow_digits.py \
        --workdir runs/lottery/imp_glow_digits

configs/glow_digits.py's model (2 levels x 4 steps, coupling convs of width 32, LU 1x1
convs). Round 0 trains the dense flow (1000 steps, Adam 1e-3); each further round prunes
20% of the remaining coupling and prior conv kernels (global magnitude), rewinds to step
10 and retrains. Headline metric: held-out bits/dim (`pruning.metric`). The 1x1 convs stay
dense (pruning.exclude): a pruned W can be singular, and with lu=True their L, U, log_s
are not 'kernel' leaves anyway. Baselines: random / reinit with
--config.pruning.reference=<this workdir>.
Last measured (experiments/lottery/README.md, seeds 0-2, 5 rounds): held-out bits/dim
2.575 +- 0.010 dense, 2.520 +- 0.016 at 67.2% sparsity; random pruning 2.676 +- 0.012 and
random reinit 2.638 +- 0.036 there; 16-67 s per round.
"""

from jaxgen import config_base


def get_config():
  config = config_base.flow_config("glow", "digits")
  config.flow.update(levels=2, steps=4, width=32, num_bins=17)
  config_base.lottery(config, rounds=5, scope="both", method="imp")
  config.pruning.metric = "bpd"
  config.pruning.exclude = "InvConv1x1"
  return config
