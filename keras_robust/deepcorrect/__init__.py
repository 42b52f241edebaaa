"""DeepCorrect (Borkar & Karam): rank filters, add correction units, train.

`rank_filters` computes the correction priority of Algorithm 1,
`build_deepcorrect` adds correction units to a frozen pretrained model,
`decompose_conv` / `to_rank_constrained` / `ranks_for_flops` derive
rank-constrained models and
`fit_deepcorrect` trains on half clean, half distorted batches.
"""

from keras_robust.deepcorrect.builder import build_deepcorrect
from keras_robust.deepcorrect.decomposition import (
    decompose_conv, decompose_kernel, ranks_for_flops, to_rank_constrained,
)
from keras_robust.deepcorrect.ranking import FilterRanking, naive_rank_filters, rank_filters
from keras_robust.deepcorrect.training import (
    finetune_copy, fit_deepcorrect, stability_model, trainable_parameters,
)

__all__ = [
    "FilterRanking",
    "build_deepcorrect",
    "decompose_conv",
    "decompose_kernel",
    "finetune_copy",
    "fit_deepcorrect",
    "naive_rank_filters",
    "rank_filters",
    "ranks_for_flops",
    "stability_model",
    "to_rank_constrained",
    "trainable_parameters",
]
