"""Source-only FCN segmenter on the synthetic scenes (the LSD-seg baseline): trained on
the flat-coloured source, evaluated on the photo-textured target.

    python -m jaxgen.main --config configs/seg_source_only_scenes.py \
        --workdir runs/seg_source_only_scenes

32x32 RGB, 4 classes, batch 16, 1000 steps; source-validation and target mIoU every 100
steps, best/ selected on source-validation mIoU.
Measured (experiments/domain_adaptation/lsd_seg.py, seeds 0-2): target mIoU 0.220 +- 0.027,
source-validation mIoU 0.541 +- 0.008 (n = 3, ddof=1), 54-67 CPU-s and 3.4-7.5 min wall
per run at load 12-15; see experiments/domain_adaptation/README.md.
"""

from jaxgen.config_base import segmentation_config


def get_config():
  return segmentation_config("seg_source_only", num_steps=1000)
