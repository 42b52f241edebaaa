"""Replace convolutions of an existing Keras model by push-pull layers."""

import keras

from keras_robust.graph import leaf_layers, replace_layers
from keras_robust.layers import PushPull2D

WHICH = ("first", "first_block", "all")


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
    convolutions = [layer for layer in leaf_layers(model) if _replaceable(layer)]
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
    """A built `PushPull2D` with every argument, the fused activation and the weights of `conv`."""
    layer = PushPull2D.from_config(conv.get_config() | {"alpha": alpha, "scale": scale})
    channels = conv.kernel.shape[2] * conv.groups
    layer.build((None, None, None, channels) if conv.data_format == "channels_last" else (None, channels, None, None))
    layer.set_weights(conv.get_weights())
    layer.trainable = conv.trainable
    return layer


def to_push_pull(model, which="first", alpha=1.0, scale=2.0):
    """A copy of `model` with some `Conv2D` layers replaced by `PushPull2D`.

    The copy has the same graph (nested functional and sequential models
    are cloned recursively) and the same weights; each replaced
    convolution's kernel (and bias) becomes the push kernel of its
    push-pull layer, which keeps every `Conv2D` argument of the convolution
    (name, filters, kernel size, strides, padding, dilation, fused
    activation, initializers, regularizers, constraints). Only `Conv2D`
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
    return replace_layers(model, lambda layer: _push_pull_like(layer, alpha, scale) if id(layer) in targets else None)
