"""DCGAN on the embedded scikit-learn digits at 16x16: the `make demo` run.

    python -m jaxgen.main --config configs/default.py --workdir runs/default

Needs no download. See README.md for wall time and samples on 2 CPU cores.
"""

from jaxgen.config_base import base_config


def get_config():
  return base_config()
