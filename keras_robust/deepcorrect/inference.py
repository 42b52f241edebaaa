"""The inference form of DeepCorrect models: plain convolutions, no gathers, batch norm folded."""

import keras
import numpy as np

from keras_robust.graph import as_functional, clone, copy_layer, fold_batch_normalization
from keras_robust.layers import ChannelCorrection
from keras_robust.validation import check_choice


def _to_numpy(weight):
    return keras.ops.convert_to_numpy(weight)


def _built(layer, input_shape, weights, **config):
    """A built copy of `layer` (config overridden by `config`) holding `weights`."""
    new = copy_layer(layer, **config)
    new.build(input_shape)
    new.set_weights(weights)
    return new


def _spatial_pair(layers):
    """Whether `layers` is a linear k×1 then 1×k `Conv2D` pair (`decompose_conv`, rank-constrained stages)."""
    if len(layers) != 2 or not all(type(layer) is keras.layers.Conv2D for layer in layers):
        return False
    vertical, horizontal = layers
    return (
        vertical.kernel_size[1] == 1 and horizontal.kernel_size[0] == 1 and vertical.groups == horizontal.groups == 1
        and not vertical.use_bias and vertical.activation is keras.activations.linear
        and vertical.strides[1] == 1 and horizontal.strides[0] == 1
        and vertical.padding == horizontal.padding and vertical.data_format == horizontal.data_format
        and tuple(vertical.dilation_rate) == tuple(horizontal.dilation_rate) == (1, 1)
    )


def _merged(vertical, horizontal, input_shape, name):
    """The k×k `Conv2D` equal to `vertical` (k×1) then `horizontal` (1×k)."""
    kernel = np.einsum("acp,bpn->abcn", _to_numpy(vertical.kernel)[:, 0], _to_numpy(horizontal.kernel)[0])
    config = dict(kernel_size=(vertical.kernel_size[0], horizontal.kernel_size[1]),
                  strides=(vertical.strides[0], horizontal.strides[1]), name=name)
    weights = [kernel.astype("float32")] + ([_to_numpy(horizontal.bias)] if horizontal.use_bias else [])
    return _built(horizontal, input_shape, weights, **config)


def _convolutions(layers, x, prefix, merge_pairs="flops"):
    """Applies `layers` (Conv2Ds) to `x`, a k×1/1×k pair merged back to k×k as `merge_pairs` says."""
    if _spatial_pair(layers) and merge_pairs != "never":
        vertical, horizontal = layers
        k_h, k_w = vertical.kernel_size[0], horizontal.kernel_size[1]
        channels, rank, filters = x.shape[-1], vertical.filters, horizontal.filters
        # per output position of the vertical convolution (rows already strided)
        pair = k_h * channels * rank + k_w * rank * filters / horizontal.strides[1]
        if merge_pairs == "always" or pair >= k_h * k_w * channels * filters / horizontal.strides[1]:
            return _merged(vertical, horizontal, x.shape, f"{prefix}{horizontal.name.removesuffix('_horizontal')}")(x)
    for layer in layers:
        x = _built(layer, x.shape, layer.get_weights(), name=f"{prefix}{layer.name}")(x)
    return x


def _norm_relu(norm, x, name):
    x = _built(norm, x.shape, norm.get_weights(), name=name)(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _plain_correction(correction, x, merge_pairs):
    """`correction(x)` as plain layers on every channel: zero weights for the channels it leaves alone.

    The first 1×1 convolution reads all channels (zero rows for those not
    corrected), the last writes all channels (zero columns and biases for
    them), and its output is added to `x`: the same function as the
    `ChannelCorrection`, without gathering or scattering channels.
    """
    unit, channels, width = correction.unit, correction.channels, x.shape[-1]
    prefix = f"{correction.name}_"
    reduce = unit.reduce
    kernel = np.zeros((1, 1, width, reduce.filters), "float32")
    kernel[:, :, channels] = _to_numpy(reduce.kernel)
    weights = [kernel] + ([_to_numpy(reduce.bias)] if reduce.use_bias else [])
    y = _built(reduce, x.shape, weights, name=f"{prefix}reduce")(x)
    reduce_norm = getattr(unit, "reduce_norm", None)
    if reduce_norm is not None:
        y = _norm_relu(reduce_norm, y, f"{prefix}reduce_norm")
    for index, (convs, norm) in enumerate(zip(unit.stage_convs, unit.stage_norms)):
        y = _norm_relu(norm, _convolutions(convs, y, prefix, merge_pairs), f"{prefix}norm_{index}")
    expand = unit.expand
    kernel = np.zeros((1, 1, expand.kernel.shape[2], width), "float32")
    kernel[..., channels] = _to_numpy(expand.kernel)
    bias = np.zeros(width, "float32")
    if expand.use_bias:
        bias[channels] = _to_numpy(expand.bias)
    y = _built(expand, y.shape, [kernel, bias], filters=width, use_bias=True, name=f"{prefix}expand")(y)
    return keras.layers.Add(name=f"{prefix}add")([x, y])


def _inference_replacement(merge_pairs):
    def replace(layer):
        if isinstance(layer, ChannelCorrection):
            return lambda x, **kwargs: _plain_correction(layer, x, merge_pairs)
        if isinstance(layer, keras.Sequential) and all(type(l) is keras.layers.Conv2D for l in layer.layers):
            return lambda x, **kwargs: _convolutions(layer.layers, x, "", merge_pairs)
        return None

    return replace


def optimize_for_inference(model, name=None, merge_pairs="flops"):
    """The inference form of a (DeepCorrect) model: the same predictions, plain and cheaper layers.

    Every `ChannelCorrection` becomes plain layers acting on all channels
    (its first 1×1 convolution with zero weights for the channels it does
    not correct, its last writing zeros to them, added to its input): no
    gather, concatenation or scatter of channels. Every `Conv2D` followed by
    batch normalization (in the model and in the correction units) becomes
    one convolution with the normalization folded in
    (`keras_robust.graph.fold_batch_normalization`). The k×1 then 1×k pairs
    of rank-constrained models (`decompose_conv`, rank-constrained units)
    are inlined, and merged back into one k×k convolution as `merge_pairs`
    says. The predictions equal the model's
    (inference mode) up to float32 round-off. Other models get the same
    folding. The result is for inference: it shares no layer with `model`.

    Args:
        model: a functional or Sequential model, e.g. from
            `build_deepcorrect` or `to_rank_constrained`.
        name: name of the new model (default: `<model name>_inference`).
        merge_pairs: `"flops"` merges a k×1/1×k pair back into one k×k
            convolution where the pair costs at least as many multiply-adds,
            `"always"` merges every pair (fewer, larger convolutions: faster
            on CPUs where a small convolution's time follows the size of its
            activations rather than its multiply-adds), `"never"` keeps them.

    Returns:
        A new functional `keras.Model`.

    Example:

    ```python
    import numpy as np
    from keras_robust.applications import ResNet20
    from keras_robust.deepcorrect import build_deepcorrect, optimize_for_inference

    base = ResNet20(weights=None)
    corrected = build_deepcorrect(base, {"layer3_2_add": np.arange(64)}, 0.75)
    fast = optimize_for_inference(corrected)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(fast(images), corrected(images), atol=1e-5)
    ```
    """
    check_choice("merge_pairs", merge_pairs, ("flops", "always", "never"))
    plain = clone(as_functional(model), replace=_inference_replacement(merge_pairs))
    folded, _ = fold_batch_normalization(plain)
    folded.name = name or f"{model.name}_inference"
    return folded
