"""jaxgen: training, pruning, evaluating and attacking deep generative models in JAX/Flax."""

__version__ = "0.1.0"
