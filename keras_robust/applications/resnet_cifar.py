"""CIFAR ResNets (He et al., 2016) with an optional push-pull stem.

The layer names follow the PyTorch module names of the push-pull authors'
`resnet/resnetcifar.py` with "." replaced by "_" (`layer2_0_downsample_0`),
which is what lets `load_torch_checkpoint` map their checkpoints.
"""

import keras

from keras_robust.applications import model_builder
from keras_robust.applications.pretrained import weights_of
from keras_robust.pushpull import push_pull_layer, push_pull_options

STAGE_WIDTHS = (16, 32, 64)


def basic_block(x, filters, strides, prefix):
    """Two 3x3 conv-BN pairs plus a (projection) shortcut, then ReLU."""
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = model_builder.conv2d(
            x, filters, 1, strides, name=f"{prefix}_downsample_0"
        )
        shortcut = model_builder.batch_norm(shortcut, f"{prefix}_downsample_1")
    y = model_builder.conv2d(x, filters, 3, strides, name=f"{prefix}_conv1")
    y = model_builder.batch_norm(y, f"{prefix}_bn1")
    y = keras.layers.ReLU(name=f"{prefix}_relu1")(y)
    y = model_builder.conv2d(y, filters, 3, 1, name=f"{prefix}_conv2")
    y = model_builder.batch_norm(y, f"{prefix}_bn2")
    y = keras.layers.Add(name=f"{prefix}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{prefix}_out")(y)


def stem(x, filters, push_pull, name):
    """3x3 stride-1 convolution, or with `push_pull` (a dict of `keras_robust.pushpull.push_pull_layer`
    options) the paper's push-pull layer."""
    if push_pull:
        return push_pull_layer(
            x, filters, 3, name, kernel_initializer=model_builder.CONV_INITIALIZER, **push_pull
        )
    return model_builder.conv2d(x, filters, 3, 1, name=name)


def resnet_cifar_body(depth, push_pull):
    """The feature extractor of ResNet-`depth` as a callable `x -> features`.

    `push_pull`: `None` for a plain stem, else the `keras_robust.pushpull.push_pull_options` of its stem.
    """
    if (depth - 2) % 6 or depth < 8:
        raise ValueError(f"CIFAR ResNet depth must be 6n + 2. Received: depth={depth}")
    blocks = (depth - 2) // 6

    def body(x):
        x = stem(x, STAGE_WIDTHS[0], push_pull, "conv1")
        x = model_builder.batch_norm(x, "bn1")
        x = keras.layers.ReLU(name="relu")(x)
        for stage, filters in enumerate(STAGE_WIDTHS):
            for block in range(blocks):
                strides = 2 if stage > 0 and block == 0 else 1
                x = basic_block(x, filters, strides, f"layer{stage + 1}_{block}")
        return x

    return body


@model_builder.document_arguments(
    depth="int, 20, 32, 44, 56, ... (6n + 2).",
    push_pull="bool, replace the stem convolution with `PushPull2D`.",
    weights=model_builder.GENERIC_WEIGHTS_DOC,
)
def ResNetCIFAR(depth, push_pull=False, include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=None, classifier_activation="softmax", name=None, *, alpha=1.0, scale=2.0,
                trainable_alpha=False):
    """A CIFAR ResNet-`depth` (`depth` = 6n + 2), plain or with a push-pull stem.

    Stem 3 -> 16 3x3 convolution (or `PushPull2D`, alpha 1 and scale 2 in the
    paper), BN, ReLU; three stages of n BasicBlocks with 16, 32 and 64 filters
    (the first block of stages 2 and 3 has stride 2 and a 1x1 conv + BN
    projection shortcut); global average pooling; a Dense classifier. Inputs
    are raw RGB pixels in [0, 255], normalized inside the model with the
    CIFAR-10 mean and std. Strided convolutions pad symmetrically like
    PyTorch, so the authors' checkpoints give the same logits. `ResNet20`,
    ..., `ResNet56PP` are this builder with a fixed depth.

    Example:

    >>> from keras_robust.applications.resnet_cifar import ResNetCIFAR
    >>> ResNetCIFAR(110, push_pull=True).output_shape
    (None, 10)
    """
    name = name or f"resnet{depth}" + ("_pp" if push_pull else "")
    pretrained_key = f"ResNet{depth}" + ("PP" if push_pull else "")
    options = push_pull_options(pretrained_key, weights, push_pull, alpha, scale, trainable_alpha,
                                shipped=weights_of(pretrained_key))
    return model_builder.build_classifier(
        resnet_cifar_body(depth, options),
        model_builder.global_average_top("fc"),
        name=name,
        pretrained_key=pretrained_key,
        **model_builder.cifar_input(),
        **model_builder.application_arguments(locals()),
    )


@model_builder.document_arguments
def ResNet20(include_top=True, weights="cifar10", input_tensor=None, input_shape=None, pooling=None, classes=None,
             classifier_activation="softmax", name="resnet20"):
    """ResNet-20 for CIFAR-10 (He et al., 2016): three stages of 3 basic blocks, 0.27 M parameters.

    Builds the push-pull authors' trained CIFAR-10 model by default.

    Example:

    >>> from keras_robust.applications import ResNet20
    >>> ResNet20().get_layer("fc").units
    10
    """
    return ResNetCIFAR(20, **locals())


@model_builder.document_arguments
def ResNet32(include_top=True, weights="cifar10", input_tensor=None, input_shape=None, pooling=None, classes=None,
             classifier_activation="softmax", name="resnet32"):
    """ResNet-32 for CIFAR-10: five basic blocks per stage; the authors' checkpoint by default.

    Example:

    >>> from keras_robust.applications import ResNet32
    >>> ResNet32(weights=None, include_top=False, pooling="avg").output_shape
    (None, 64)
    """
    return ResNetCIFAR(32, **locals())


@model_builder.document_arguments
def ResNet44(include_top=True, weights="cifar10", input_tensor=None, input_shape=None, pooling=None, classes=None,
             classifier_activation="softmax", name="resnet44"):
    """ResNet-44 for CIFAR-10, seven basic blocks in each of its three stages.

    Example:

    >>> import keras
    >>> from keras_robust.applications import ResNet44
    >>> logits = ResNet44(classifier_activation=None)
    """
    return ResNetCIFAR(44, **locals())


@model_builder.document_arguments
def ResNet56(include_top=True, weights="cifar10", input_tensor=None, input_shape=None, pooling=None, classes=None,
             classifier_activation="softmax", name="resnet56"):
    """ResNet-56 for CIFAR-10 (nine basic blocks a stage), the deepest ResNet of the push-pull paper.

    Example:

    >>> from keras_robust.applications import ResNet56
    >>> new_top = ResNet56(weights=None, classes=100)
    """
    return ResNetCIFAR(56, **locals())


@model_builder.document_arguments
def ResNet20PP(include_top=True, weights="cifar10", input_tensor=None, input_shape=None, pooling=None, classes=None,
               classifier_activation="softmax", name="resnet20_pp", *, alpha=1.0, scale=2.0, trainable_alpha=False):
    """ResNet-20 with a push-pull first layer (Strisciuglio et al., 2020), the authors' trained model by default.

    Its stem convolution is a `keras_robust.layers.PushPull2D`: the push
    kernel is learned and the pull kernel is the push kernel upsampled by
    `scale` and negated.

    Example:

    >>> from keras_robust.applications import ResNet20PP
    >>> model = ResNet20PP()
    >>> type(model.get_layer("conv1")).__name__
    'PushPull2D'
    """
    return ResNetCIFAR(20, True, **locals())


@model_builder.document_arguments
def ResNet32PP(include_top=True, weights="cifar10", input_tensor=None, input_shape=None, pooling=None, classes=None,
               classifier_activation="softmax", name="resnet32_pp", *, alpha=1.0, scale=2.0, trainable_alpha=False):
    """ResNet-32 whose stem is a push-pull layer; pretrained on CIFAR-10 by the paper's authors.

    Example:

    >>> from keras_robust.applications import ResNet32PP
    >>> untrained = ResNet32PP(weights=None, trainable_alpha=True)
    >>> untrained.get_layer("conv1").trainable_alpha
    True
    """
    return ResNetCIFAR(32, True, **locals())


@model_builder.document_arguments
def ResNet44PP(include_top=True, weights="cifar10", input_tensor=None, input_shape=None, pooling=None, classes=None,
               classifier_activation="softmax", name="resnet44_pp", *, alpha=1.0, scale=2.0, trainable_alpha=False):
    """ResNet-44 with the push-pull stem of the paper (alpha 1, h 2).

    Example:

    >>> from keras_robust.applications import ResNet44PP
    >>> ResNet44PP(weights=None, scale=3.0).get_layer("conv1").scale
    3.0
    """
    return ResNetCIFAR(44, True, **locals())


@model_builder.document_arguments
def ResNet56PP(include_top=True, weights="cifar10", input_tensor=None, input_shape=None, pooling=None, classes=None,
               classifier_activation="softmax", name="resnet56_pp", *, alpha=1.0, scale=2.0, trainable_alpha=False):
    """ResNet-56 with a push-pull first layer; the authors' CIFAR-10 checkpoint is loaded unless `weights=None`.

    Example:

    >>> from keras_robust.applications import ResNet56PP
    >>> ResNet56PP(weights=None, alpha=0.5).get_layer("conv1").alpha
    0.5
    """
    return ResNetCIFAR(56, True, **locals())
