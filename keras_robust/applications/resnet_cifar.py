"""CIFAR ResNets (He et al., 2016) with an optional push-pull stem.

The layer names follow the PyTorch module names of the push-pull authors'
`resnet/resnetcifar.py` with "." replaced by "_" (`layer2_0_downsample_0`),
which is what lets `load_torch_checkpoint` map their checkpoints.
"""

import keras

from keras_robust.applications import model_builder
from keras_robust.layers import PushPull2D

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
    """3x3 stride-1 convolution, or the paper's push-pull layer (alpha 1, h 2)."""
    if push_pull:
        return PushPull2D(
            filters, 3, padding="same", alpha=1.0, scale=2.0,
            kernel_initializer=model_builder.CONV_INITIALIZER, name=name,
        )(x)
    return model_builder.conv2d(x, filters, 3, 1, name=name)


def resnet_cifar_body(depth, push_pull):
    """The feature extractor of ResNet-`depth` as a callable `x -> features`."""
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


def ResNetCIFAR(
    depth,
    push_pull=False,
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name=None,
):
    """A CIFAR ResNet-`depth` (`depth` = 6n + 2), plain or with a push-pull stem.

    Stem 3 -> 16 3x3 convolution (or `PushPull2D` with alpha 1 and scale 2),
    BN, ReLU; three stages of n BasicBlocks with 16, 32 and 64 filters (the
    first block of stages 2 and 3 has stride 2 and a 1x1 conv + BN projection
    shortcut); global average pooling; a Dense classifier. Inputs are raw
    RGB pixels in [0, 255], normalized inside the model with the CIFAR-10
    mean and std. Strided convolutions pad symmetrically like PyTorch, so the
    authors' checkpoints give the same logits.

    Args:
        depth: int, 20, 32, 44, 56, ... (6n + 2).
        push_pull: bool, replace the stem convolution with `PushPull2D`.
        include_top: bool, whether to include the pooling + Dense classifier.
        weights: `None`, `"cifar10"` (the push-pull authors' checkpoints,
            shipped with the package, for depths 20, 32, 44 and 56) or the
            path of a `.weights.h5` file or of a state dict (`.npz`, or a
            PyTorch `.pth`/`.pth.tar` if torch is installed).
        input_tensor: optional Keras tensor to use as the model's input.
        input_shape: optional (height, width, 3); defaults to (32, 32, 3).
        pooling: `None`, `"avg"` or `"max"`, the pooling of the features when
            `include_top=False`.
        classes: int, number of classes of the top.
        classifier_activation: activation of the top; `None` gives logits.
        name: the model's name; defaults to e.g. `"resnet20_pp"`.

    Example:

    >>> from keras_robust.applications import ResNetCIFAR
    >>> ResNetCIFAR(20, push_pull=True).output_shape
    (None, 10)
    """
    name = name or f"resnet{depth}" + ("_pp" if push_pull else "")
    pretrained_key = f"ResNet{depth}" + ("PP" if push_pull else "")
    return model_builder.build_classifier(
        resnet_cifar_body(depth, push_pull),
        model_builder.global_average_top("fc"),
        name=name,
        pretrained_key=pretrained_key,
        **model_builder.cifar_input(),
        **model_builder.application_arguments(locals()),
    )
