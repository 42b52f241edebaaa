"""Deep features of a trained network, linear SVMs, distortions: DeepCorrect Sec. V-A7."""

from keras_robust.transfer.cache import FeatureCache
from keras_robust.transfer.features import FeatureExtractor, default_feature_layer, fit_images
from keras_robust.corruptions.registry import Distortion
from keras_robust.transfer.distortions import resolve_distortion
from keras_robust.transfer.protocol import evaluate_transfer, make_splits
from keras_robust.transfer.results import TransferResults
from keras_robust.transfer.sources import ArraySource, FolderSource, TfdsSource, open_source
from keras_robust.transfer.svm import linear_svm_pipeline, linear_svm_search

__all__ = [
    "ArraySource", "Distortion", "FeatureCache", "FeatureExtractor", "FolderSource", "TfdsSource",
    "TransferResults", "default_feature_layer",
    "evaluate_transfer", "resolve_distortion",
    "fit_images", "linear_svm_pipeline", "linear_svm_search", "make_splits", "open_source",
]
