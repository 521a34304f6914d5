"""Lottery tickets of a DCGAN (width 32) on the embedded digits (16x16): IMP with late rewinding.

    python -m jaxgen.pruning.imp --config configs/lottery/imp_dcgan_digits.py \
        --workdir runs/lottery/imp_dcgan_digits

Round 0 trains the dense DCGAN (1000 steps); each further round prunes 20% of the
remaining weights of G and D jointly (global magnitude), rewinds to step 10 and
retrains. Baselines at the same sparsities: --config.pruning.method=random or reinit
with --config.pruning.reference=<the IMP workdir>, or snip / grasp.

Last measured (2 shared CPU cores, 40-90 s per round including compilation; seed 0;
FID-digits on jaxgen's digits classifier, lower is better; --config.pruning.rounds=10):
dense 11.8; IMP 10.1 at 59% sparsity, 11.1 at 74%, 14.0 at 79%, 18.7 at 89% (18.6% of
the dense FLOPs); random pruning 18.3 / 19.7 / 18.0 / 32.6 at the same sparsities;
random reinit 13.5 / 9.3 / 11.1 / 15.4 (one seed: reinit is not beaten here).
"""

from jaxgen import config_base


def get_config():
  config = config_base.base_config()
  config.model.width = 32
  return config_base.lottery(config, rounds=5, scope="both", method="imp")
