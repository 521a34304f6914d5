"""Pruning as pure functions: masks, magnitude/random/SNIP/GraSP pruning, rewinding,
early-bird tickets and FLOPs (the lottery-ticket method, Kalibhat et al. 2021).

The IMP driver lives in `jaxgen.pruning.imp` (not imported here: it needs the training
loop, which imports this package through `jaxgen.optim`).
"""

from jaxgen.pruning.baselines import (grasp_mask, grasp_scores, hessian_gradient_product,
                                      random_like, snip_mask, snip_scores)
from jaxgen.pruning.early_bird import (EarlyBirdSearch, bn_scales, channel_density,
                                       channel_mask, channel_mask_per_net, hamming_distance,
                                       init_search, search_step, weight_mask)
from jaxgen.pruning.flops import (Layer, forward_flops, gan_layers, gan_step_flops,
                                  net_layers, trace_layers)
from jaxgen.pruning.magnitude import (magnitude_prune, num_to_prune, prune_by_score,
                                      prune_remaining, sparsity_after)
from jaxgen.pruning.masks import (PRUNABLE, Mask, apply_mask, counts, kernels,
                                  layer_sparsity, make_prunable, num_kept, ones_like,
                                  sparsity)
from jaxgen.pruning.objectives import autoencoder_objective, gan_objective
from jaxgen.pruning.optimizer import MaskedState, get_mask, has_mask, masked, set_mask
from jaxgen.pruning.rewind import reinit, rewind, rewind_net
from jaxgen.pruning.state import (Ticket, get_masks, net_mask, net_names,
                                  params_of, scope_nets, set_masks, set_net_mask)
