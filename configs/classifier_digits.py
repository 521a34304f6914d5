"""Clean training of an MLP classifier on the 8x8 digits: the robustness table's baseline.

    python -m jaxgen.main --config configs/classifier_digits.py --workdir runs/classifier_digits
    python experiments/robustness/run_table.py        # all three digits configs, 3 seeds

MLP 64 -> 128 -> 128 -> 10, Adam 1e-3, batch 64, 1500 steps (67 epochs of the 1437
training digits). Robust evaluation at attack.eps 0.4 on [-1, 1] (0.2 on [0, 1]), PGD-20 /
PGD-100 with 2 restarts. Measured (run_table.py, seeds 0, 1, 2; 360 test digits): clean
0.973 +- 0.002, PGD-20 0.006 +- 0.003, PGD-100 0.007 +- 0.004; 28-104 s wall per run
(compilation included) on the loaded 2-core machine.
"""

from jaxgen.config_base import digits_mlp_classifier


def get_config():
  config = digits_mlp_classifier("none")
  return config
