"""Replace convolutions of an existing Keras model by push-pull layers."""

import keras

from keras_robust.graph import leaf_layers, replace_layers
from keras_robust.layers import PushPull2D
from keras_robust.validation import check_choice

WHICH = ("first", "first_block", "all")


def refusal(layer):
    """Why `to_push_pull` does not replace the convolution `layer`, or `None` if it is a candidate (or no convolution).

    Candidates are `Conv2D` layers with `groups=1` and "same" or "valid"
    padding; other convolutions are kept as they are, for the reason given.

    Args:
        layer: a Keras layer.

    Returns:
        A one-line reason naming the layer, or `None`.

    Example:

    >>> import keras
    >>> from keras_robust.pushpull import refusal
    >>> refusal(keras.layers.DepthwiseConv2D(3, name="dw"))
    "'dw' is a DepthwiseConv2D: only Conv2D layers are converted"
    """
    if type(layer) is keras.layers.Conv2D:
        if layer.groups != 1:
            return (f"{layer.name!r} is a grouped Conv2D (groups={layer.groups}, a depthwise convolution when it equals "
                    "the channels): only groups=1 is converted")
        if layer.padding not in ("same", "valid"):
            return f"{layer.name!r} has padding={layer.padding!r}: only 'same' and 'valid' are converted"
        return None
    if isinstance(layer, keras.layers.Conv2D):
        return f"{layer.name!r} is a {type(layer).__name__}, not a plain Conv2D (e.g. a subclass with its own call)"
    kinds = (keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D, keras.layers.Conv2DTranspose,
             keras.layers.Conv1D, keras.layers.Conv3D)
    if isinstance(layer, kinds):
        return f"{layer.name!r} is a {type(layer).__name__}: only Conv2D layers are converted"
    return None


def _replaceable(layer):
    return type(layer) is keras.layers.Conv2D and refusal(layer) is None


def _refused(model):
    reasons = [reason for reason in map(refusal, leaf_layers(model)) if reason]
    shown = "; ".join(reasons[:3]) + (f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")
    return f" Convolutions left as they are: {shown}." if reasons else ""


def _spatial(shape):
    return tuple(shape[1:3])


def select_convolutions(model, which):
    """The `Conv2D` layers of `model` that `to_push_pull(model, which)` replaces.

    Args:
        model: a functional or sequential Keras model (built).
        which: `"first"`, `"first_block"` or `"all"`, as for `to_push_pull`.

    Returns:
        A list of `Conv2D` layers of `model`, in the order of its layers.

    Raises:
        ValueError: `which` is none of those, or the choice selects nothing.

    Example:

    >>> import keras
    >>> from keras_robust.pushpull import select_convolutions
    >>> model = keras.applications.ResNet50(weights=None)
    >>> [layer.name for layer in select_convolutions(model, "first_block")]
    ['conv1_conv']
    """
    check_choice("which", which, WHICH)
    convolutions = [layer for layer in leaf_layers(model) if _replaceable(layer)]
    if not convolutions:
        raise ValueError(
            f"Model {model.name!r} has no Conv2D layer (groups=1, padding "
            f"'same' or 'valid') to replace by a push-pull layer.{_refused(model)}"
        )
    first = convolutions[0]
    if which == "first":
        return [first]
    spatial = [layer for layer in convolutions if max(layer.kernel_size) > 1]
    if which == "all":
        if not spatial:
            raise ValueError(
                f"Model {model.name!r} has no Conv2D layer with a kernel larger than 1x1 for which='all'. "
                f"Received: only 1x1 candidates ({', '.join(layer.name for layer in convolutions[:3])}, ...); "
                f"which='first' converts {first.name!r}.{_refused(model)}"
            )
        return spatial
    resolution = _spatial(first.output.shape)
    return [first] + [
        layer for layer in spatial[1:] if _spatial(layer.output.shape) == resolution
    ]


def _push_pull_like(conv, alpha, scale, trainable_alpha):
    """A built `PushPull2D` with every argument, the fused activation and the weights of `conv`."""
    layer = PushPull2D.from_config(
        conv.get_config() | {"alpha": alpha, "scale": scale, "trainable_alpha": trainable_alpha}
    )
    channels = conv.kernel.shape[2] * conv.groups
    layer.build((None, None, None, channels) if conv.data_format == "channels_last" else (None, channels, None, None))
    learned = [] if layer.alpha_weight is None else [keras.ops.convert_to_numpy(layer.alpha_weight)]
    layer.set_weights(conv.get_weights() + learned)
    layer.trainable = conv.trainable
    return layer


def to_push_pull(model, which="first", alpha=1.0, scale=2.0, trainable_alpha=False):
    """A copy of `model` with some `Conv2D` layers replaced by `PushPull2D`.

    The copy has the same graph (nested functional and sequential models
    are cloned recursively) and the same weights; each replaced
    convolution's kernel (and bias) becomes the push kernel of its
    push-pull layer, which keeps every `Conv2D` argument of the convolution
    (name, filters, kernel size, strides, padding, dilation, fused
    activation, initializers, regularizers, constraints). Only `Conv2D`
    layers with `groups=1` and "same" or "valid" padding are candidates
    (not depthwise, separable or transposed convolutions); a choice that
    would replace nothing raises a `ValueError` naming the convolutions left
    as they are and why (`refusal`). As the paper notes, a converted trained
    model needs fine-tuning, because push-pull responses differ from
    convolution responses (docs: "Keras applications" for the steps).

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
        trainable_alpha: bool; if `True`, each new layer learns one
            inhibition strength per filter (`PushPull2D(trainable_alpha=True)`,
            initialised as in the authors' layer), to fine-tune with the rest.

    Returns:
        A new `keras.Model`; `model` itself is unchanged.

    Example:

    >>> import keras
    >>> from keras_robust.pushpull import to_push_pull
    >>> model = keras.applications.ResNet50(weights=None)
    >>> type(to_push_pull(model).get_layer("conv1_conv")).__name__
    'PushPull2D'
    """
    targets = {id(layer) for layer in select_convolutions(model, which)}
    return replace_layers(
        model, lambda layer: _push_pull_like(layer, alpha, scale, trainable_alpha) if id(layer) in targets else None
    )
