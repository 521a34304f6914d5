"""Early-bird channel tickets of a DCGAN (width 32) on the embedded digits (16x16).

    python -m jaxgen.main --config configs/lottery/early_bird_dcgan_digits.py \
        --workdir runs/lottery/early_bird_dcgan_digits

The dense DCGAN trains
until its BatchNorm channel mask (50% of G's channels and of D's, every 50 steps)
stops changing (Hamming distance < 0.1 to each of the last 5 masks); the narrower DCGAN
with those channels and their weights then trains 3000 steps, and so does the dense
model (early_bird.baseline) for comparison. early_bird.json has the EB step, FLOPs,
wall times and FID-digits of both. --config.early_bird.init=init slices the dense
initialisation instead of the weights at the EB step.
"""

from jaxgen import config_base


def get_config():
  config = config_base.base_config()
  config.model.width = 32
  return config_base.early_bird_experiment(config, num_steps=3000, ratio=0.5, every=50)
