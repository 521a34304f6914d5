"""Sample-quality and likelihood metrics as pure functions of features or NLLs."""

from jaxgen.metrics.classifier import (Classifier, TrainedClassifier, load_classifier,
                                       save_classifier, train_classifier)
from jaxgen.metrics.feature_nets import FeatureNet, get_feature_net
from jaxgen.metrics.frechet import GaussianStats
from jaxgen.metrics.frechet import fid_from_features
from jaxgen.metrics.frechet import frechet_distance
from jaxgen.metrics.frechet import statistics
from jaxgen.metrics.inception import (FIDInceptionV3, inception_features, inception_outputs,
                                      load_inception_params, resize_bilinear)
from jaxgen.metrics.inception_score import inception_score
from jaxgen.metrics.kid import kernel_inception_distance
from jaxgen.metrics.kid import polynomial_mmd2
from jaxgen.metrics.likelihood import bits_per_dim
from jaxgen.metrics.mode_coverage import mode_coverage
from jaxgen.metrics.mode_coverage import reverse_kl_modes
from jaxgen.metrics.precision_recall import density_coverage
from jaxgen.metrics.precision_recall import knn_radii
from jaxgen.metrics.precision_recall import precision_recall

__all__ = [
    "Classifier",
    "FeatureNet",
    "TrainedClassifier",
    "get_feature_net",
    "load_classifier",
    "save_classifier",
    "train_classifier",
    "FIDInceptionV3",
    "inception_features",
    "inception_outputs",
    "load_inception_params",
    "resize_bilinear",
    "GaussianStats",
    "bits_per_dim",
    "density_coverage",
    "fid_from_features",
    "frechet_distance",
    "inception_score",
    "kernel_inception_distance",
    "knn_radii",
    "mode_coverage",
    "polynomial_mmd2",
    "precision_recall",
    "reverse_kl_modes",
    "statistics",
]
