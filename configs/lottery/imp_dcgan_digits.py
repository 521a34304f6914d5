"""Lottery tickets of a DCGAN (width 32) on the embedded digits (16x16): IMP with late rewinding.

    python -m jaxgen.main --config configs/lottery/imp_dcgan_digits.py \
        --workdir runs/lottery/imp_dcgan_digits

Round 0 trains the dense DCGAN (1000 steps); each further round prunes 20% of the
remaining weights of G and D jointly (global magnitude), rewinds to step 10 and
retrains. Baselines at the same sparsities: --config.pruning.method=random or reinit
with --config.pruning.reference=<the IMP workdir>, or snip / grasp.

Last measured (experiments/lottery/README.md: `experiments/lottery/compare.py ... --seeds
0,1,2 --rounds 10`; 20-50 s per round on 2 shared CPU cores; FID-digits on jaxgen's
digits classifier, lower is better; means over n=3 seeds): dense 0.58; IMP 0.55 at 59%
sparsity, 0.54 at 74%, 0.57 at 83%, 0.87 at 89% (18.6% of the dense FLOPs); random
pruning 0.72 / 0.87 / 1.10 / 2.07 and random reinit 0.67 / 0.55 / 0.66 / 0.80 at the
same sparsities.
"""

from jaxgen import config_base


def get_config():
  config = config_base.base_config()
  config.model.width = 32
  return config_base.lottery(config, rounds=5, scope="both", method="imp")
