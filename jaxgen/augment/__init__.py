"""Differentiable augmentations of the discriminator's inputs: DiffAugment and ADA.

`diffaugment` holds DiffAugment (Zhao et al. 2020, the `train.diffaug` policies);
`ada` holds adaptive discriminator augmentation (Karras et al. 2020, `train.ada_*`).
"""

from jaxgen.augment import ada
from jaxgen.augment.diffaugment import (AUGMENTS, Augment, color, cutout, diff_augment,
                                        parse_policy, translation)

__all__ = ["AUGMENTS", "Augment", "ada", "color", "cutout", "diff_augment", "parse_policy",
           "translation"]
