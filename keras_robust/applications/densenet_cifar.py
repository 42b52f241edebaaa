"""CIFAR DenseNet-BC (Huang et al., 2017) with an optional push-pull stem.

Layer names follow the PyTorch module names of the push-pull authors'
`densenet/densenetcifar.py` with "." replaced by "_"
(`features_denseblock1_denselayer1_norm1`), so `load_torch_checkpoint` maps
their checkpoints.
"""

import keras

from keras_robust.applications import model_builder
from keras_robust.applications.resnet_cifar import stem

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
    """The feature extractor of DenseNet-BC-`depth`-`growth_rate`."""
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


def DenseNetCIFAR(
    depth,
    growth_rate,
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
    """A CIFAR DenseNet-BC-`depth`-`growth_rate`, plain or with a push-pull stem.

    Small-input variant: a 3 -> 24 3x3 stem convolution (or `PushPull2D` with
    alpha 1 and scale 2) without normalization or pooling; three dense blocks
    of (depth - 4) // 6 layers, each BN-ReLU-1x1 conv (4k)-BN-ReLU-3x3 conv (k)
    concatenated to its input; between blocks a transition BN-ReLU-1x1 conv
    (compression 0.5)-2x2 average pooling; final BN and ReLU; global average
    pooling; a Dense classifier. Inputs are raw RGB pixels in [0, 255],
    normalized inside the model with the CIFAR-10 mean and std.

    Args:
        depth: int, 6n + 4 (40, 100, ...).
        growth_rate: int, the growth rate k.
        push_pull: bool, replace the stem convolution with `PushPull2D`.
        include_top: bool, whether to include the pooling + Dense classifier.
        weights: `None`, `"cifar10"` (the push-pull authors' checkpoints,
            shipped for DenseNet-BC-40-12 and -100-12) or the path of a
            `.weights.h5` file or of a state dict (`.npz`, `.pth`, `.pth.tar`).
        input_tensor: optional Keras tensor to use as the model's input.
        input_shape: optional (height, width, 3); defaults to (32, 32, 3).
        pooling: `None`, `"avg"` or `"max"`, for `include_top=False`.
        classes: int, number of classes of the top.
        classifier_activation: activation of the top; `None` gives logits.
        name: the model's name; defaults to e.g. `"densenet40_12_pp"`.

    Example:

    >>> from keras_robust.applications import DenseNetCIFAR
    >>> DenseNetCIFAR(40, 12, include_top=False).output_shape
    (None, 8, 8, 132)
    """
    suffix = "_pp" if push_pull else ""
    name = name or f"densenet{depth}_{growth_rate}{suffix}"
    return model_builder.build_classifier(
        densenet_cifar_body(depth, growth_rate, push_pull),
        model_builder.global_average_top("classifier"),
        name=name,
        pretrained_key=f"DenseNet{depth}_{growth_rate}" + ("PP" if push_pull else ""),
        **model_builder.cifar_input(),
        **model_builder.application_arguments(locals()),
    )
