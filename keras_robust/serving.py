"""The serving form of a model: plain layers, batch normalization folded, ReLUs fused, maps padded.

`optimize_for_inference` rewrites a functional model into the same function
made of plain Keras layers. A layer supplies its own plain form through the
serving hook: a method `serving_form(inputs, *, merge_pairs)` that applies
new, built plain layers to the symbolic tensor `inputs` and returns their
output (`keras_robust.layers.CorrectionUnit` and `ChannelCorrection` do).
The helpers such a method builds on (`built_copy`, `plain_convolutions`,
`plain_norm_relu`) are here too.
"""

import keras
import numpy as np

from keras_robust.graph import as_functional, clone, copy_layer, fold_batch_normalization, ordered_nodes, readers
from keras_robust.low_rank import merge_pair_kernels
from keras_robust.validation import check_choice, check_int

MERGE_PAIRS = ("flops", "always", "never")
# The serving hook: the method a layer defines to supply its plain form.
SERVING_HOOK = "serving_form"


def _to_numpy(weight):
    return keras.ops.convert_to_numpy(weight)


def built_copy(layer, input_shape, weights, **config):
    """A built copy of `layer` (its config overridden by `config`) holding `weights`.

    Args:
        layer: the layer to copy.
        input_shape: the shape to build the copy for.
        weights: the copy's weights, as `set_weights` takes them.
        **config: entries of `layer.get_config()` to override (e.g. `name`).

    Example:

    ```python
    import keras
    import numpy as np
    from keras_robust.serving import built_copy

    dense = keras.layers.Dense(2)
    dense.build((None, 3))
    copy = built_copy(dense, (None, 3), dense.get_weights(), name="copy")
    np.testing.assert_array_equal(copy.get_weights()[0], dense.get_weights()[0])
    ```
    """
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
    kernel = merge_pair_kernels(_to_numpy(vertical.kernel), _to_numpy(horizontal.kernel))
    config = dict(kernel_size=(vertical.kernel_size[0], horizontal.kernel_size[1]),
                  strides=(vertical.strides[0], horizontal.strides[1]), name=name)
    weights = [kernel] + ([_to_numpy(horizontal.bias)] if horizontal.use_bias else [])
    return built_copy(horizontal, input_shape, weights, **config)


def plain_convolutions(layers, x, merge_pairs="flops", *, name, prefix=""):
    """Copies of the `Conv2D`s `layers` applied to `x` in turn; a k×1 then 1×k pair merged as `merge_pairs` says.

    Args:
        layers: built `keras.layers.Conv2D`s, applied in order.
        x: the symbolic input tensor.
        merge_pairs: `"flops"` merges a k×1/1×k pair into one k×k
            convolution where the pair costs at least as many multiply-adds,
            `"always"` merges every pair, `"never"` keeps them.
        name: name of the merged k×k convolution.
        prefix: prefix of the copies' names (each `prefix + layer.name`).

    Returns:
        The output tensor.

    Example:

    ```python
    import keras
    from keras_robust.serving import plain_convolutions

    conv = keras.layers.Conv2D(4, 3, padding="same", name="c")
    conv.build((None, 8, 8, 2))
    y = plain_convolutions([conv], keras.Input((8, 8, 2)), name="unused", prefix="copy_")
    assert y.shape == (None, 8, 8, 4)
    ```
    """
    if _spatial_pair(layers) and merge_pairs != "never":
        vertical, horizontal = layers
        k_h, k_w = vertical.kernel_size[0], horizontal.kernel_size[1]
        channels, rank, filters = x.shape[-1], vertical.filters, horizontal.filters
        # per output position of the vertical convolution (rows already strided)
        pair = k_h * channels * rank + k_w * rank * filters / horizontal.strides[1]
        if merge_pairs == "always" or pair >= k_h * k_w * channels * filters / horizontal.strides[1]:
            return _merged(vertical, horizontal, x.shape, name)(x)
    for layer in layers:
        x = built_copy(layer, x.shape, layer.get_weights(), name=f"{prefix}{layer.name}")(x)
    return x


def plain_norm_relu(norm, x, name):
    """A copy of the built `BatchNormalization` `norm` named `name`, then a ReLU named `<name>_relu`, on `x`.

    Example:

    ```python
    import keras
    from keras_robust.serving import plain_norm_relu

    norm = keras.layers.BatchNormalization()
    norm.build((None, 4))
    assert plain_norm_relu(norm, keras.Input((4,)), "bn").shape == (None, 4)
    ```
    """
    x = built_copy(norm, x.shape, norm.get_weights(), name=name)(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def _serving_replacement(merge_pairs):
    def replace(layer):
        hook = getattr(layer, SERVING_HOOK, None)
        if hook is not None:
            return lambda x, **kwargs: hook(x, merge_pairs=merge_pairs)
        if isinstance(layer, keras.Sequential) and all(type(l) is keras.layers.Conv2D for l in layer.layers):
            return lambda x, **kwargs: plain_convolutions(layer.layers, x, merge_pairs, name=layer.name)
        return None

    return replace


def _is_relu(layer):
    """Whether `layer` is a plain ReLU (max(x, 0): zero stays zero), as a `ReLU` or an `Activation` layer."""
    if type(layer) is keras.layers.ReLU:
        return layer.max_value is None and not layer.negative_slope and not layer.threshold
    return type(layer) is keras.layers.Activation and layer.activation is keras.activations.relu


def _convolution_plan(model, multiple):
    """What `_fuse_and_pad` changes: {conv name: (input shape, input channels, filters, fuse ReLU)}, dropped ReLUs.

    A linear convolution read only by a plain ReLU takes it as its
    activation. A convolution (linear or ReLU) whose output (after that
    ReLU) only convolutions read gets its filters rounded up to a multiple
    of `multiple`: zero kernel and bias, so the extra maps are zero, and its
    readers get zero weights for them.
    """
    nodes = ordered_nodes(model)
    readers_map, outputs = readers(nodes), {id(t) for t in model.outputs}
    calls = {}
    for node in nodes:
        calls[id(node.operation)] = calls.get(id(node.operation), 0) + 1

    def plain_conv(node):
        layer = node.operation
        return (type(layer) is keras.layers.Conv2D and layer.groups == 1 and calls[id(layer)] == 1
                and layer.data_format == "channels_last"
                and layer.activation in (keras.activations.linear, keras.activations.relu))

    plan, dropped = {}, set()
    for node in filter(plain_conv, nodes):
        conv, output = node.operation, node.outputs[0]
        entry = plan.setdefault(conv.name, [node.input_tensors[0].shape, conv.kernel.shape[2], conv.filters, False])
        after = readers_map.get(id(output), [])
        if (conv.activation is keras.activations.linear and id(output) not in outputs and len(after) == 1
                and _is_relu(after[0].operation) and calls[id(after[0].operation)] == 1):
            entry[3] = True
            dropped.add(after[0].operation.name)
            output = after[0].outputs[0]
            after = readers_map.get(id(output), [])
        width = -(-conv.filters // multiple) * multiple
        if width != conv.filters and id(output) not in outputs and after and all(map(plain_conv, after)):
            entry[2] = width
            for reader in after:
                reader_entry = plan.setdefault(
                    reader.operation.name,
                    [reader.input_tensors[0].shape, width, reader.operation.filters, False],
                )
                reader_entry[1] = width
    changed = {name: entry for name, entry in plan.items()
               if entry[3] or entry[1:3] != [model.get_layer(name).kernel.shape[2], model.get_layer(name).filters]}
    return changed, dropped


def _fuse_and_pad(model, multiple):
    """`model` with ReLUs fused into the convolutions before them and channels padded (`_convolution_plan`)."""
    plan, dropped = _convolution_plan(model, multiple)

    def replace(layer):
        if layer.name in dropped:
            return lambda x, **kwargs: x
        if layer.name not in plan:
            return None
        input_shape, channels, filters, relu = plan[layer.name]
        old = _to_numpy(layer.kernel)
        kernel = np.zeros((*old.shape[:2], channels, filters), old.dtype)
        kernel[:, :, : old.shape[2], : old.shape[3]] = old
        weights = [kernel]
        if layer.use_bias:
            weights.append(np.zeros(filters, old.dtype))
            weights[1][: old.shape[3]] = _to_numpy(layer.bias)
        config = dict(filters=filters, name=layer.name) | (dict(activation="relu") if relu else {})
        return built_copy(layer, (*input_shape[:-1], channels), weights, **config)

    return clone(model, replace=replace, share=True)


def optimize_for_inference(model, name=None, merge_pairs="flops", channel_multiple=8):
    """The serving form of a model: the same predictions, plain and cheaper layers.

    Every layer with the serving hook (a method `serving_form(inputs, *,
    merge_pairs)`, see the module's docstring) is replaced by the plain
    layers it returns: a DeepCorrect `ChannelCorrection` becomes plain
    layers acting on all channels (its first 1×1 convolution with zero
    weights for the channels it does not correct, its last writing zeros to
    them, added to its input), with no gather, concatenation or scatter of
    channels. Every `Conv2D` followed by batch normalization (in the model
    and in the plain forms) becomes one convolution with the normalization
    folded in (`keras_robust.graph.fold_batch_normalization`). The k×1 then
    1×k pairs of rank-constrained models (Sequentials of `Conv2D`s such as
    `decompose_conv`'s, rank-constrained units) are inlined, and merged
    back into one k×k convolution as `merge_pairs` says. A ReLU that alone
    reads a convolution becomes its activation, and the maps between two
    convolutions (inside the units, in the pairs) are padded with zero maps
    to a multiple of `channel_multiple`: on CPUs a 3×3 convolution 8→8 runs
    faster than 6→6 and 16→16 faster than 12→12 (measured in
    `benchmarks/deepcorrect_inference.py`). The predictions equal the
    model's (inference mode) up to float32 round-off. The result is for
    inference: it shares no layer with `model`.

    Args:
        model: a functional or Sequential model, e.g. from
            `build_deepcorrect` or `to_rank_constrained`.
        name: name of the new model (default: `<model name>_inference`).
        merge_pairs: `"flops"` merges a k×1/1×k pair back into one k×k
            convolution where the pair costs at least as many multiply-adds,
            `"always"` merges every pair (fewer, larger convolutions: faster
            on CPUs where a small convolution's time follows the size of its
            activations rather than its multiply-adds), `"never"` keeps them.
        channel_multiple: the number of maps a convolution writes to other
            convolutions is rounded up to a multiple of this (zero maps);
            `1` pads nothing.

    Returns:
        A new functional `keras.Model`.

    Example:

    ```python
    import keras
    import numpy as np
    from keras_robust.serving import optimize_for_inference

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 1)(x))
    fast = optimize_for_inference(model)
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in fast.layers)
    images = np.random.default_rng(0).uniform(0, 1, (2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(fast(images), model(images), atol=1e-5)
    ```
    """
    check_choice("merge_pairs", merge_pairs, MERGE_PAIRS)
    check_int("channel_multiple", channel_multiple, minimum=1)
    plain = clone(as_functional(model), replace=_serving_replacement(merge_pairs))
    folded, _ = fold_batch_normalization(plain)
    fast = _fuse_and_pad(folded, channel_multiple)
    fast.name = name or f"{model.name}_inference"
    return fast
