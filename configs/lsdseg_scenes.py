"""LSD-seg on the synthetic scenes: flat-coloured shapes (source) -> photo-textured (target).

    python -m jaxgen.main --config configs/lsdseg_scenes.py --workdir runs/lsdseg_scenes

32x32 RGB, 4 classes, batch 16, 1000 steps; source-validation and target mIoU every 100
steps, best/ selected on source-validation mIoU.
Measured (experiments/domain_adaptation/lsd_seg.py, seeds 0-2): target mIoU 0.254 +- 0.046
(n = 3, ddof=1; source-only 0.220 +- 0.027), 171-180 CPU-s and ~10 min wall per run at
load 12-15; the details and the caveats are in experiments/domain_adaptation/README.md.
"""

from jaxgen.config_base import segmentation_config


def get_config():
  return segmentation_config("lsd_seg", num_steps=1000)
