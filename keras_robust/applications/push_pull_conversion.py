"""Replace convolutions of an existing Keras model by push-pull layers."""

import keras

from keras_robust.layers import PushPull2D

WHICH = ("first", "first_block", "all")


def _leaf_layers(model):
    """Leaf layers in the order of the (nested) model's `layers`, which is
    topological for functional models."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _leaf_layers(layer)
        else:
            yield layer


def _replaceable(layer):
    return (
        type(layer) is keras.layers.Conv2D
        and layer.groups == 1
        and layer.padding in ("same", "valid")
    )


def _spatial(shape):
    return tuple(shape[1:3])


def select_convolutions(model, which):
    """The `Conv2D` layers of `model` that `to_push_pull(model, which)` replaces."""
    if which not in WHICH:
        raise ValueError(f"`which` must be one of {WHICH}. Received: which={which!r}")
    convolutions = [layer for layer in _leaf_layers(model) if _replaceable(layer)]
    if not convolutions:
        raise ValueError(
            f"Model {model.name!r} has no Conv2D layer (groups=1, padding "
            "'same' or 'valid') to replace by a push-pull layer."
        )
    first = convolutions[0]
    if which == "first":
        return [first]
    spatial = [layer for layer in convolutions if max(layer.kernel_size) > 1]
    if which == "all":
        return spatial
    resolution = _spatial(first.output.shape)
    return [first] + [
        layer for layer in spatial[1:] if _spatial(layer.output.shape) == resolution
    ]


def _push_pull_like(conv, alpha, scale):
    linear = keras.activations.get(conv.activation) is keras.activations.linear
    layer = PushPull2D(
        conv.filters,
        conv.kernel_size,
        strides=conv.strides,
        padding=conv.padding,
        data_format=conv.data_format,
        dilation_rate=conv.dilation_rate,
        alpha=alpha,
        scale=scale,
        use_bias=conv.use_bias,
        kernel_initializer=conv.kernel_initializer,
        bias_initializer=conv.bias_initializer,
        kernel_regularizer=conv.kernel_regularizer,
        bias_regularizer=conv.bias_regularizer,
        kernel_constraint=conv.kernel_constraint,
        bias_constraint=conv.bias_constraint,
        activity_regularizer=conv.activity_regularizer,
        name=conv.name if linear else f"{conv.name}_push_pull",
    )
    if linear:
        return layer
    # Keep the convolution's fused activation after the push-pull response.
    return keras.Sequential(
        [layer, keras.layers.Activation(conv.activation, name=f"{conv.name}_activation")],
        name=conv.name,
    )


def to_push_pull(model, which="first", alpha=1.0, scale=2.0):
    """A copy of `model` with some `Conv2D` layers replaced by `PushPull2D`.

    The copy has the same graph (nested functional and sequential models
    are cloned recursively) and the same weights; each replaced
    convolution's kernel (and bias) becomes the push kernel of its
    push-pull layer, which keeps the convolution's name, filters, kernel
    size, strides, padding, dilation, initializers, regularizers and
    constraints. A convolution with a fused activation becomes a small
    `Sequential` of the push-pull layer and that activation. Only `Conv2D`
    layers with `groups=1` and "same" or "valid" padding are candidates
    (not depthwise, separable or transposed convolutions). As the paper
    notes, a converted trained model needs fine-tuning, because push-pull
    responses differ from convolution responses.

    Args:
        model: a functional or sequential Keras model (built).
        which: which candidates to replace, taking them in the order of
            `model.layers`, nested models expanded in place:
            - `"first"`: the first candidate (the paper's setting);
            - `"first_block"`: the first candidate plus every later candidate
              with a kernel larger than 1x1 whose output has the same spatial
              size as the first one's output, i.e. the stem and the
              convolutions of the full-resolution stage it feeds. For the
              CIFAR ResNets this is conv1 and all 3x3 convolutions of layer1
              (the authors' `use_pp1` + `pp_block1`); for a model whose stem
              downsamples before its first stage (ImageNet ResNet50) it is
              the stem alone;
            - `"all"`: every candidate with a kernel larger than 1x1.
        alpha: float, inhibition strength of the new layers.
        scale: float, upsampling factor of their pull kernels.

    Returns:
        A new `keras.Model`; `model` itself is unchanged.

    Example:

    >>> import keras
    >>> from keras_robust.applications import to_push_pull
    >>> model = keras.applications.ResNet50(weights=None)
    >>> type(to_push_pull(model).get_layer("conv1_conv")).__name__
    'PushPull2D'
    """
    targets = {id(layer) for layer in select_convolutions(model, which)}
    clones = []

    def clone_layer(layer):
        if id(layer) in targets:
            clone = _push_pull_like(layer, alpha, scale)
        else:
            clone = layer.__class__.from_config(layer.get_config())
        clones.append((layer, clone))
        return clone

    copy = keras.models.clone_model(model, clone_function=clone_layer, recursive=True)
    for layer, clone in clones:
        if layer.weights:
            clone.set_weights(layer.get_weights())
    return copy
