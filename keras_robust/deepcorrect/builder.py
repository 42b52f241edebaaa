"""DeepCorrect models: correction units on the most susceptible filter outputs."""

import keras
import numpy as np

from keras_robust.deepcorrect.graph import correction_point
from keras_robust.graph import as_functional, clone, has_activation
from keras_robust.deepcorrect.ranking import FilterRanking
from keras_robust.layers import ChannelCorrection, CorrectionUnit
from keras_robust.validation import check_choice

# How the frozen network's batch normalizations behave while the units train: with their pretrained (inference)
# statistics, or normalizing with the training batch's statistics and updating their moving ones, as the authors'
# Keras 1 code did in frozen layers (their scale and offset stay frozen either way).
BATCH_NORMS = ("frozen", "adapt")

# The paper's three correction units: stacked k×k stages and D relative to βN.
UNITS = ("full", "bottleneck", "rank_constrained")
STAGES = {"full": 2, "bottleneck": 3, "rank_constrained": 3}


def _per_layer(value, layer):
    if isinstance(value, dict):
        return value.get(layer)
    return value


def unit_settings(unit, corrected, depth=None, kernel_size=None, rank=None, stages=None):
    """`CorrectionUnit` arguments of a paper unit form for `corrected` = βN filters.

    Defaults: D = βN (full) or βN/2 (bottleneck, rank-constrained), k = 3,
    2 stages (full) or 3, and P = 3D/4 for the rank-constrained form (the
    AlexNet units of Table IV).
    """
    check_choice("unit", unit, UNITS)
    if depth is None:
        depth = corrected if unit == "full" else max(1, round(corrected / 2))
    if rank is None and unit == "rank_constrained":
        rank = max(1, round(0.75 * depth))
    return dict(
        depth=int(depth),
        kernel_size=int(kernel_size or 3),
        stages=int(stages or STAGES[unit]),
        rank=None if unit != "rank_constrained" else int(rank),
    )


def _orders(ranking):
    if isinstance(ranking, FilterRanking):
        return ranking.orders
    if isinstance(ranking, dict):
        return {k: np.asarray(v, dtype="int64") for k, v in ranking.items()}
    raise ValueError(
        "`ranking` must be a FilterRanking or a dict of layer name -> filter order. "
        f"Received: {type(ranking).__name__}"
    )


def build_deepcorrect(
    model, ranking, betas, unit="full", *, depths=None, kernel_sizes=None,
    ranks=None, stages=None, start="identity", batch_norm="frozen", trainable_layers=(), name=None,
):
    """A DeepCorrect model: a frozen copy of `model` with correction units.

    In each chosen layer the outputs of its top βN ranked filters pass
    through a `CorrectionUnit` before the layer's non-linearity (after the
    layer, or after the batch normalization that follows it; a fused
    activation is split off and applied after the correction), the other
    outputs pass unchanged and the channel order is kept. Every copied layer
    is frozen except those named in `trainable_layers`. By default every
    unit starts as the identity, so the new model's predictions are the
    pretrained model's until the units train.

    Args:
        model: the pretrained functional or Sequential model (left unchanged).
        ranking: a `FilterRanking`, or a dict layer name -> filter order.
        betas: β, the fraction of filters to correct: one float for every
            ranked layer, or a dict layer name -> β choosing the layers.
        unit: `"full"`, `"bottleneck"` or `"rank_constrained"`.
        depths, kernel_sizes, ranks, stages: optional overrides of the unit
            form's D, k, P and number of stages, one value or a dict per layer.
        start: how every unit starts, `"identity"` (default) or `"he_normal"`
            (the authors' random last layer, see `CorrectionUnit`).
        batch_norm: the frozen network's batch normalizations while the
            units train: `"frozen"` (default: inference statistics, as
            Keras freezes them) or `"adapt"` (the authors' Keras 1
            behaviour: batch statistics in training, moving statistics
            updated, scale and offset frozen).
        trainable_layers: names of pretrained layers left trainable (the
            paper trains ResNet18's last dense layer with its units).
        name: name of the new model.

    Returns:
        A new `keras.Model`.
    """
    check_choice("batch_norm", batch_norm, BATCH_NORMS)
    orders = _orders(ranking)
    chosen = betas if isinstance(betas, dict) else {layer: betas for layer in orders}
    model = as_functional(model)
    after, split = {}, set()
    for layer, beta in chosen.items():
        if layer not in orders:
            raise ValueError(f"No ranking for layer {layer!r}. Ranked: {list(orders)}")
        if not 0 < beta <= 1:
            raise ValueError(f"β must be in (0, 1]. Received: betas[{layer!r}]={beta}")
        point = correction_point(model, layer)
        order = orders[layer]
        corrected = max(1, round(beta * len(order)))
        settings = unit_settings(
            unit, corrected, *(_per_layer(v, layer) for v in (depths, kernel_sizes, ranks, stages))
        )
        correction = ChannelCorrection(
            order[:corrected].tolist(), CorrectionUnit(**settings, start=start, name=f"{layer}_unit"),
            name=f"{layer}_correction",
        )
        activation = None
        if has_activation(model.get_layer(point)):
            split.add(point)
            activation = keras.layers.Activation(
                model.get_layer(point).activation, name=f"{point}_activation"
            )
        after[point] = _then(correction, activation)
    corrected_model = clone(
        model, after, linear=split, name=name or f"{model.name}_deepcorrect"
    )
    keep = set(trainable_layers)
    for layer in corrected_model.layers:
        if isinstance(layer, ChannelCorrection):
            continue
        layer.trainable = layer.name in keep
        if batch_norm == "adapt" and isinstance(layer, keras.layers.BatchNormalization) and not layer.trainable:
            # Keras normalizes with batch statistics only in trainable layers: keep the layer trainable and
            # freeze its scale and offset instead.
            layer.trainable = True
            for weight in layer.trainable_weights:
                weight.trainable = False
    return corrected_model


def _then(correction, activation):
    if activation is None:
        return correction
    return lambda x: activation(correction(x))
