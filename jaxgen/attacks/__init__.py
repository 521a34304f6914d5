"""Adversarial attacks by `config.attack.name`: pure functions of a per-example loss.

Every attack takes `loss_fn(x) -> [B]` and per-example epsilons, so classifiers
(PGD-AT, IAAT) and likelihood models (flows) share them.
"""

from jaxgen.attacks.pgd import NORMS, fgsm, pgd, project
from jaxgen.attacks import likelihood  # noqa: F401  (flows' NLL, linear-flow oracles)
from jaxgen.registry import Registry

ATTACKS: Registry = Registry("attack.name")
ATTACKS.register("fgsm")(fgsm)
ATTACKS.register("pgd")(pgd)

__all__ = ["ATTACKS", "NORMS", "fgsm", "pgd", "project"]
