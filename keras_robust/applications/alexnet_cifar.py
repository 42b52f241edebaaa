"""The CIFAR AlexNet used as the mCE baseline (Appendix 2 of the push-pull paper)."""

import keras

from keras_robust.applications import model_builder
from keras_robust.validation import check_number

# (filters, strides, max-pooling after the convolution)
CONV_LAYERS = ((64, 2, True), (192, 1, True), (384, 1, False), (256, 1, False), (256, 1, True))
HIDDEN_UNITS = (4096, 4096)


def alexnet_body(x):
    """Five 3x3 convolutions with ReLU; 2x2 max-pooling after the 1st, 2nd and 5th."""
    for index, (filters, strides, pool) in enumerate(CONV_LAYERS, 1):
        x = model_builder.conv2d(x, filters, 3, strides, name=f"conv{index}", use_bias=True)
        x = keras.layers.ReLU(name=f"relu{index}")(x)
        if pool:
            x = keras.layers.MaxPooling2D(2, name=f"pool{index}")(x)
    return x


@model_builder.document_arguments
def AlexNetCIFAR(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=None,
                 classifier_activation="softmax", name="alexnet_cifar", *, dropout=0.5):
    """AlexNet for 32x32 CIFAR images, the baseline of the paper's mCE (no pretrained weights ship).

    Appendix 2 of the paper states only the differences from the ImageNet
    AlexNet: every convolution kernel is 3x3, the first convolution has
    stride 2, and the first fully connected layer has 1024 inputs; its
    figure is not in the text and the authors' repository does not contain
    the model. This reconstruction keeps everything else of the ImageNet
    AlexNet (torchvision widths): conv 64 (stride 2) - ReLU - max-pool 2 -
    conv 192 - ReLU - max-pool 2 - conv 384 - ReLU - conv 256 - ReLU -
    conv 256 - ReLU - max-pool 2, which leaves 2x2x256 = 1024 features for a
    32x32 input; then dropout - Dense 4096 - ReLU - dropout - Dense 4096 -
    ReLU - Dense `classes`. Convolutions are padded by 1 on every side, like
    PyTorch's `padding=1`. Inputs are raw RGB pixels in [0, 255], normalized
    inside the model with the CIFAR-10 mean and std.

    Example:

    >>> from keras_robust.applications import AlexNetCIFAR
    >>> AlexNetCIFAR().get_layer("fc1").input.shape
    (None, 1024)
    """
    check_number("dropout", dropout, minimum=0, maximum=1, exclusive_maximum=True)
    return model_builder.build_classifier(
        alexnet_body,
        model_builder.flatten_dense_top(HIDDEN_UNITS, dropout),
        name=name,
        pretrained_key="AlexNetCIFAR",
        **model_builder.cifar_input(),
        **model_builder.application_arguments(locals()),
    )
