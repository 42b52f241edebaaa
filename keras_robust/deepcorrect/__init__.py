"""DeepCorrect (Borkar & Karam): rank filters, add correction units, train.

`rank_filters` computes the correction priority of Algorithm 1,
`build_deepcorrect` adds correction units to a frozen pretrained model,
`decompose_conv` / `to_rank_constrained` / `ranks_for_flops` derive
rank-constrained models and
`fit_deepcorrect` trains on augmented half clean, half distorted batches
(the paper's protocol) fed by the `tf.data` pipeline
`mixed_distortion_dataset`, `bn_recalibrated_copy` is the
batch-norm-statistics baseline, `optimize_for_inference` the plain, folded
form for serving.
"""

from keras_robust.deepcorrect.builder import build_deepcorrect
from keras_robust.deepcorrect.inference import optimize_for_inference
from keras_robust.deepcorrect.decomposition import (
    decompose_conv, decompose_kernel, ranks_for_flops, to_rank_constrained,
)
from keras_robust.deepcorrect.ranking import FilterRanking, naive_rank_filters, rank_filters
from keras_robust.deepcorrect.batches import MixedDistortionBatches, augment_images
from keras_robust.deepcorrect.pipeline import mixed_distortion_dataset
from keras_robust.deepcorrect.training import (
    bn_recalibrated_copy, finetune_copy, fit_deepcorrect, recalibrate_batch_norm, stability_model,
    trainable_parameters,
)

__all__ = [
    "FilterRanking",
    "MixedDistortionBatches",
    "augment_images",
    "bn_recalibrated_copy",
    "build_deepcorrect",
    "decompose_conv",
    "decompose_kernel",
    "finetune_copy",
    "fit_deepcorrect",
    "mixed_distortion_dataset",
    "naive_rank_filters",
    "optimize_for_inference",
    "rank_filters",
    "ranks_for_flops",
    "recalibrate_batch_norm",
    "stability_model",
    "to_rank_constrained",
    "trainable_parameters",
]
