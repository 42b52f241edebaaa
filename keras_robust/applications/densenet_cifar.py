"""CIFAR DenseNet-BC (Huang et al., 2017) with an optional push-pull stem.

Layer names follow the PyTorch module names of the push-pull authors'
`densenet/densenetcifar.py` with "." replaced by "_"
(`features_denseblock1_denselayer1_norm1`), so `load_torch_checkpoint` maps
their checkpoints.
"""

import keras

from keras_robust.applications import model_builder
from keras_robust.applications.pretrained import weights_of
from keras_robust.applications.resnet_cifar import stem
from keras_robust.pushpull import push_pull_options

INITIAL_FEATURES = 24
BOTTLENECK_FACTOR = 4
COMPRESSION = 0.5


def _bn_relu_conv(x, filters, kernel_size, prefix, norm, conv):
    x = model_builder.batch_norm(x, f"{prefix}_{norm}")
    x = keras.layers.ReLU(name=f"{prefix}_relu_{norm}")(x)
    return model_builder.conv2d(x, filters, kernel_size, 1, name=f"{prefix}_{conv}")


def dense_layer(x, growth_rate, prefix):
    """BN-ReLU-1x1 conv (4k) - BN-ReLU-3x3 conv (k), concatenated to the input."""
    y = _bn_relu_conv(x, BOTTLENECK_FACTOR * growth_rate, 1, prefix, "norm1", "conv1")
    y = _bn_relu_conv(y, growth_rate, 3, prefix, "norm2", "conv2")
    return keras.layers.Concatenate(name=f"{prefix}_concat")([x, y])


def transition(x, prefix):
    """BN-ReLU-1x1 conv halving the channels, then 2x2 average pooling."""
    filters = int(x.shape[-1] * COMPRESSION)
    x = _bn_relu_conv(x, filters, 1, prefix, "norm", "conv")
    return keras.layers.AveragePooling2D(2, name=f"{prefix}_pool")(x)


def densenet_cifar_body(depth, growth_rate, push_pull):
    """The feature extractor of DenseNet-BC-`depth`-`growth_rate`.

    `push_pull`: `None` for a plain stem, else the `keras_robust.pushpull.push_pull_options` of its stem.
    """
    if (depth - 4) % 6 or depth < 10:
        raise ValueError(f"DenseNet-BC depth must be 6n + 4. Received: depth={depth}")
    layers_per_block = (depth - 4) // 6

    def body(x):
        x = stem(x, INITIAL_FEATURES, push_pull, "features_conv0")
        for block in range(1, 4):
            for layer in range(1, layers_per_block + 1):
                x = dense_layer(
                    x, growth_rate, f"features_denseblock{block}_denselayer{layer}"
                )
            if block < 3:
                x = transition(x, f"features_transition{block}")
        x = model_builder.batch_norm(x, "features_norm_final")
        return keras.layers.ReLU(name="features_relu_final")(x)

    return body


@model_builder.document_arguments(
    depth="int, 6n + 4 (40, 100, ...).",
    growth_rate="int, the growth rate k.",
    push_pull="bool, replace the stem convolution with `PushPull2D`.",
    weights=model_builder.GENERIC_WEIGHTS_DOC,
)
def DenseNetCIFAR(depth, growth_rate, push_pull=False, include_top=True, weights=None, input_tensor=None,
                  input_shape=None, pooling=None, classes=None, classifier_activation="softmax", name=None, *,
                  alpha=1.0, scale=2.0, trainable_alpha=False):
    """A CIFAR DenseNet-BC-`depth`-`growth_rate`, plain or with a push-pull stem.

    Small-input variant: a 3 -> 24 3x3 stem convolution (or `PushPull2D`,
    alpha 1 and scale 2 in the paper) without normalization or pooling; three
    dense blocks of (depth - 4) // 6 layers, each BN-ReLU-1x1 conv (4k)-BN-
    ReLU-3x3 conv (k) concatenated to its input; between blocks a transition
    BN-ReLU-1x1 conv (compression 0.5)-2x2 average pooling; final BN and
    ReLU; global average pooling; a Dense classifier. Inputs are raw RGB
    pixels in [0, 255], normalized inside the model with the CIFAR-10 mean
    and std. `DenseNet40_12`, ..., `DenseNet100_24PP` are this builder with
    a fixed depth and growth rate.

    Example:

    >>> from keras_robust.applications.densenet_cifar import DenseNetCIFAR
    >>> DenseNetCIFAR(40, 12, include_top=False).output_shape
    (None, 8, 8, 132)
    """
    suffix = "_pp" if push_pull else ""
    name = name or f"densenet{depth}_{growth_rate}{suffix}"
    pretrained_key = f"DenseNet{depth}_{growth_rate}" + ("PP" if push_pull else "")
    options = push_pull_options(pretrained_key, weights, push_pull, alpha, scale, trainable_alpha,
                                shipped=weights_of(pretrained_key))
    return model_builder.build_classifier(
        densenet_cifar_body(depth, growth_rate, options),
        model_builder.global_average_top("classifier"),
        name=name,
        pretrained_key=pretrained_key,
        **model_builder.cifar_input(),
        **model_builder.application_arguments(locals()),
    )


@model_builder.document_arguments
def DenseNet40_12(include_top=True, weights="cifar10", input_tensor=None, input_shape=None, pooling=None,
                  classes=None, classifier_activation="softmax", name="densenet40_12"):
    """DenseNet-BC-40 with growth rate 12 (Huang et al., 2017) for CIFAR-10; the authors' checkpoint by default.

    Example:

    >>> from keras_robust.applications import DenseNet40_12
    >>> DenseNet40_12(include_top=False).output_shape
    (None, 8, 8, 132)
    """
    return DenseNetCIFAR(40, 12, **locals())


@model_builder.document_arguments
def DenseNet100_12(include_top=True, weights="cifar10", input_tensor=None, input_shape=None, pooling=None,
                   classes=None, classifier_activation="softmax", name="densenet100_12"):
    """DenseNet-BC-100-12: 16 bottleneck layers per dense block, pretrained on CIFAR-10 by the authors.

    Example:

    >>> from keras_robust.applications import DenseNet100_12
    >>> features = DenseNet100_12(include_top=False, pooling="max")
    """
    return DenseNetCIFAR(100, 12, **locals())


@model_builder.document_arguments
def DenseNet100_24(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                   classes=None, classifier_activation="softmax", name="densenet100_24"):
    """DenseNet-BC-100 with growth rate 24. No checkpoint was released: it starts untrained.

    Example:

    >>> from keras_robust.applications import DenseNet100_24
    >>> DenseNet100_24(include_top=False).output_shape[-1]
    678
    """
    return DenseNetCIFAR(100, 24, **locals())


@model_builder.document_arguments
def DenseNet40_12PP(include_top=True, weights="cifar10", input_tensor=None, input_shape=None, pooling=None,
                    classes=None, classifier_activation="softmax", name="densenet40_12_pp", *, alpha=1.0,
                    scale=2.0, trainable_alpha=False):
    """DenseNet-BC-40-12 with a push-pull stem (Strisciuglio et al., 2020), pretrained by the authors.

    Example:

    >>> from keras_robust.applications import DenseNet40_12PP
    >>> type(DenseNet40_12PP().get_layer("features_conv0")).__name__
    'PushPull2D'
    """
    return DenseNetCIFAR(40, 12, True, **locals())


@model_builder.document_arguments
def DenseNet100_12PP(include_top=True, weights="cifar10", input_tensor=None, input_shape=None, pooling=None,
                     classes=None, classifier_activation="softmax", name="densenet100_12_pp", *, alpha=1.0,
                     scale=2.0, trainable_alpha=False):
    """DenseNet-BC-100-12 whose first convolution is a push-pull layer; the authors' weights unless `weights=None`.

    Example:

    >>> from keras_robust.applications import DenseNet100_12PP
    >>> retrain = DenseNet100_12PP(weights=None, trainable_alpha=True)
    """
    return DenseNetCIFAR(100, 12, True, **locals())


@model_builder.document_arguments
def DenseNet100_24PP(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                     classes=None, classifier_activation="softmax", name="densenet100_24_pp", *, alpha=1.0,
                     scale=2.0, trainable_alpha=False):
    """DenseNet-BC-100-24 with a push-pull stem, untrained (the paper reports it; no checkpoint ships).

    Example:

    >>> from keras_robust.applications import DenseNet100_24PP
    >>> DenseNet100_24PP(scale=1.5).get_layer("features_conv0").scale
    1.5
    """
    return DenseNetCIFAR(100, 24, True, **locals())
