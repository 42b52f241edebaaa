"""Rank-constrained convolutions (Tai et al., 2016) and Deepcorr-rc models."""

import keras

from keras_robust.graph import as_functional, clone
from keras_robust.layers import ChannelCorrection
from keras_robust.low_rank import decompose_kernel, full_rank
from keras_robust.utils import count_flops

__all__ = ["decompose_conv", "decompose_kernel", "full_rank", "ranks_for_flops", "to_rank_constrained"]


def _pair(layer, rank):
    """The (unweighted) k×1 then 1×k convolutions that replace `layer`."""
    config = layer.get_config()
    (kh, kw), (sh, sw) = config["kernel_size"], config["strides"]
    common = dict(padding=config["padding"], groups=config["groups"], dtype=layer.dtype_policy)
    pair = keras.Sequential(
        [
            keras.layers.Conv2D(rank, (kh, 1), strides=(sh, 1), use_bias=False,
                                name=f"{layer.name}_vertical", **common),
            keras.layers.Conv2D(config["filters"], (1, kw), strides=(1, sw),
                                use_bias=config["use_bias"], activation=config["activation"],
                                name=f"{layer.name}_horizontal", **common),
        ],
        name=layer.name,
    )
    pair.build((None, None, None, layer.kernel.shape[2] * layer.groups))
    return pair


def decompose_conv(layer, rank):
    """A trained `Conv2D` as a k×1 convolution to `rank` maps, then a 1×k one.

    Args:
        layer: a built `keras.layers.Conv2D` (channels_last, no dilation;
            grouped convolutions are decomposed group by group).
        rank: P, the number of intermediate maps (a multiple of the groups).

    Returns:
        A built `keras.Sequential` named like `layer` holding the vertical
        convolution (no bias) and the horizontal one (the layer's bias and
        activation).

    Example:

    ```python
    import keras
    import numpy as np
    from keras_robust.deepcorrect import decompose_conv

    conv = keras.layers.Conv2D(8, 3, padding="same")
    conv.build((None, 16, 16, 4))
    pair = decompose_conv(conv, rank=12)  # full rank: min(4·3, 8·3)
    x = np.random.rand(1, 16, 16, 4).astype("float32")
    np.testing.assert_allclose(pair(x), conv(x), atol=1e-4)
    ```
    """
    if not _decomposable(layer, kernel_1x1=True) or not layer.built:
        raise ValueError(
            "`layer` must be a built channels_last Conv2D without dilation. "
            f"Received: {layer!r}"
        )
    vertical, horizontal = decompose_kernel(keras.ops.convert_to_numpy(layer.kernel), rank, layer.groups)
    pair = _pair(layer, rank)
    pair.layers[0].set_weights([vertical])
    pair.layers[1].set_weights([horizontal] + ([keras.ops.convert_to_numpy(layer.bias)] if layer.use_bias else []))
    return pair


def _decomposable(layer, kernel_1x1=False):
    """A channels_last, undilated `Conv2D`, k×k with k > 1 unless `kernel_1x1`."""
    return (
        type(layer) is keras.layers.Conv2D and layer.data_format == "channels_last"
        and tuple(layer.dilation_rate) == (1, 1) and (kernel_1x1 or min(layer.kernel_size) > 1)
    )


def ranks_for_flops(model, target_flops):
    """P for every k×k `Conv2D` (k > 1) of `model` so that it costs at most `target_flops`.

    Section IV-C decomposes every full-rank k×k convolution of Deepcorr-rc
    with "P chosen such that the total computational cost of our model is
    the same as the baseline DNN" without giving the P. One rule for all
    layers: P is a common fraction f of each layer's full rank (rounded
    down to a multiple of its groups, at least one per group), with the
    largest f, found by bisection, for which `count_flops` of the decomposed
    model is at most `target_flops`. Correction units are counted as they
    are: decompose them first (`to_rank_constrained(model, ranks)`).

    Args:
        model: a functional or Sequential model.
        target_flops: the multiply-adds allowed, e.g. `count_flops(base)`.

    Returns:
        A dict layer name -> P, the `base_ranks` of `to_rank_constrained`.
    """
    model = as_functional(model)
    layers = {layer.name: layer for layer in model.layers if _decomposable(layer)}
    per_layer = count_flops(model, per_layer=True)
    fixed = count_flops(model) - sum(per_layer[name] for name in layers)
    one_per_group = {}  # multiply-adds with P = groups; linear in P
    for name, layer in layers.items():
        inputs = keras.Input(layer.input.shape[1:])
        one_per_group[name] = count_flops(keras.Model(inputs, _pair(layer, layer.groups)(inputs)))

    def ranks(fraction):
        return {
            name: layer.groups * max(1, int(fraction * full_rank(layer.kernel.shape, layer.groups)) // layer.groups)
            for name, layer in layers.items()
        }

    def flops(fraction):
        return fixed + sum(one_per_group[n] * p // layers[n].groups for n, p in ranks(fraction).items())

    if flops(0.0) > target_flops:
        raise ValueError(
            f"Even one map per group in every k×k convolution costs {flops(0.0)} multiply-adds. "
            f"Received: target_flops={target_flops}"
        )
    low, high = 0.0, 1.0
    if flops(high) <= target_flops:
        return ranks(high)
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if flops(middle) <= target_flops else (low, middle)
    return ranks(low)


def to_rank_constrained(model, ranks=None, base_ranks=None, name=None, *, target_flops=None):
    """Deepcorr-rc from a full-rank (e.g. Deepcorr-b) model (Section IV-C).

    Args:
        model: a model built by `build_deepcorrect` with full-rank units.
        ranks: P of the correction units: one int, or a dict mapping the
            corrected layer names (as given to `build_deepcorrect`) to P.
        base_ranks: optional dict mapping names of other `Conv2D` layers to
            P, to decompose them too (Finetune-rc, or the base layers).
        name: name of the new model.
        target_flops: instead of `base_ranks`, decompose every k×k `Conv2D`
            with the P of `ranks_for_flops`, so that the whole model (units
            decomposed with `ranks`) costs at most `target_flops`: the
            paper's Deepcorr-rc has the baseline's FLOPs.

    Example:

    ```python
    import numpy as np
    from keras_robust.applications import ResNet20
    from keras_robust.deepcorrect import build_deepcorrect, to_rank_constrained
    from keras_robust.utils import count_flops

    base = ResNet20()
    orders = {"layer3_2_add": np.arange(64)}
    corrected = build_deepcorrect(base, orders, 0.75, unit="bottleneck")
    rc = to_rank_constrained(corrected, 18, target_flops=count_flops(base))
    assert count_flops(rc) <= count_flops(base) < count_flops(corrected)
    ```
    """
    if target_flops is not None:
        if base_ranks:
            raise ValueError(f"Give `base_ranks` or `target_flops`, not both. Received: base_ranks={base_ranks}")
        name = name or f"{model.name}_rc"
        units = to_rank_constrained(model, ranks, name=name) if ranks is not None else model
        return to_rank_constrained(units, base_ranks=ranks_for_flops(units, target_flops), name=name)
    model = as_functional(model)
    base_ranks = base_ranks or {}

    def replace(layer):
        if isinstance(layer, ChannelCorrection):
            corrected = layer.name.removesuffix("_correction")
            rank = ranks.get(corrected) if isinstance(ranks, dict) else ranks
            return None if rank is None else layer.rank_constrained(rank)
        if layer.name in base_ranks:
            pair = decompose_conv(layer, base_ranks[layer.name])
            pair.trainable = layer.trainable
            return pair
        return None

    return clone(model, replace=replace, name=name or f"{model.name}_rc")
