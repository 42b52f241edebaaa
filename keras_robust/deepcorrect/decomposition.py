"""Rank-constrained convolutions (Tai et al., 2016) and Deepcorr-rc models."""

import keras
import numpy as np

from keras_robust.deepcorrect.graph import as_functional, clone
from keras_robust.layers import ChannelCorrection, CorrectionUnit


def decompose_kernel(kernel, rank):
    """Closed-form rank-`rank` split of a (kh, kw, C, N) kernel (Tai et al.).

    The kernel as a (C·kh) x (N·kw) matrix is approximated by its truncated
    SVD, the global optimum of the rank-constrained problem.

    Returns:
        `(vertical, horizontal)` kernels of shapes (kh, 1, C, P) and
        (1, kw, P, N); the vertical followed by the horizontal convolution
        equals the original at full rank P = min(C·kh, N·kw).
    """
    kernel = np.asarray(kernel, dtype="float64")
    kh, kw, channels, filters = kernel.shape
    full = min(channels * kh, filters * kw)
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 1 <= rank <= full:
        raise ValueError(
            f"`rank` must be an int in [1, {full}] for a {kernel.shape} kernel. "
            f"Received: rank={rank!r}"
        )
    matrix = kernel.transpose(2, 0, 3, 1).reshape(channels * kh, filters * kw)
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    root = np.sqrt(s[:rank])
    vertical = (u[:, :rank] * root).reshape(channels, kh, rank).transpose(1, 0, 2)
    horizontal = (vt[:rank].T * root).reshape(filters, kw, rank).transpose(1, 2, 0)
    return vertical[:, None], horizontal[None]


def decompose_conv(layer, rank):
    """A trained `Conv2D` as a k×1 convolution to `rank` maps, then a 1×k one.

    Args:
        layer: a built `keras.layers.Conv2D` (channels_last, no groups or
            dilation).
        rank: P, the number of intermediate maps.

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
    config = layer.get_config() if isinstance(layer, keras.layers.Conv2D) else {}
    if not layer.built or config.get("groups", 1) != 1 or tuple(
        config.get("dilation_rate", (0,))
    ) != (1, 1) or config.get("data_format") != "channels_last":
        raise ValueError(
            "`layer` must be a built channels_last Conv2D without groups or "
            f"dilation. Received: {layer!r}"
        )
    vertical, horizontal = decompose_kernel(keras.ops.convert_to_numpy(layer.kernel), rank)
    (kh, kw), (sh, sw) = config["kernel_size"], config["strides"]
    common = dict(padding=config["padding"], dtype=layer.dtype_policy)
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
    pair.build((None, None, None, vertical.shape[2]))
    pair.layers[0].set_weights([vertical])
    pair.layers[1].set_weights([horizontal] + ([keras.ops.convert_to_numpy(layer.bias)] if config["use_bias"] else []))
    return pair


def _rank_constrained_unit(correction, rank):
    """Copy of a `ChannelCorrection` whose k×k convolutions are decomposed."""
    unit = correction.unit
    settings = {k: v for k, v in unit.get_config().items() if k in ("depth", "kernel_size", "stages")}
    new = ChannelCorrection(
        correction.channels,
        CorrectionUnit(**settings, rank=rank, name=unit.name),
        name=correction.name,
    )
    new.build(correction.input.shape)
    new_unit = new.unit
    for source, target in [(unit.reduce, new_unit.reduce), (unit.expand, new_unit.expand)] + list(
        zip(unit.stage_norms, new_unit.stage_norms)
    ):
        target.set_weights(source.get_weights())
    for convs, (vertical, horizontal) in zip(unit.stage_convs, new_unit.stage_convs):
        v, h = decompose_kernel(keras.ops.convert_to_numpy(convs[0].kernel), rank)
        vertical.set_weights([v])
        horizontal.set_weights([h])
    new.trainable = correction.trainable
    return new


def to_rank_constrained(model, ranks, base_ranks=None, name=None):
    """Deepcorr-rc from a full-rank (e.g. Deepcorr-b) model (Section IV-C).

    Args:
        model: a model built by `build_deepcorrect` with full-rank units.
        ranks: P of the correction units: one int, or a dict mapping the
            corrected layer names (as given to `build_deepcorrect`) to P.
        base_ranks: optional dict mapping names of other `Conv2D` layers to
            P, to decompose them too (Finetune-rc, or the base layers).
        name: name of the new model.
    """
    model = as_functional(model)
    base_ranks = base_ranks or {}

    def replace(layer):
        if isinstance(layer, ChannelCorrection):
            corrected = layer.name.removesuffix("_correction")
            rank = ranks.get(corrected) if isinstance(ranks, dict) else ranks
            if rank is None:
                return None
            if layer.unit.rank is not None:
                raise ValueError(f"Layer {layer.name!r} is already rank-constrained.")
            return _rank_constrained_unit(layer, rank)
        if layer.name in base_ranks:
            pair = decompose_conv(layer, base_ranks[layer.name])
            pair.trainable = layer.trainable
            return pair
        return None

    return clone(model, replace=replace, name=name or f"{model.name}_rc")
