"""The LeNet variants of Table 1 of Strisciuglio et al. (2020), for MNIST."""

import keras

from keras_robust.applications import model_builder
from keras_robust.layers import PushPull2D

# variant -> (filters of conv 1, filters of conv 2, hidden fully connected units)
LENET_VARIANTS = {
    "A": (6, 16, (128, 64)),
    "B": (6, 8, (64, 32)),
    "C": (4, 16, (128, 64)),
    "D": (4, 8, (64, 32)),
}
VARIANTS = tuple(LENET_VARIANTS) + tuple(f"P{v}" for v in LENET_VARIANTS)
KERNEL_SIZE = 5


def lenet_body(first_filters, second_filters, push_pull, first_layer_norm):
    """Two 5x5 convolution + ReLU + 2x2 max-pooling stages, LeNet-5 style."""

    def body(x):
        if push_pull:
            x = PushPull2D(
                first_filters, KERNEL_SIZE, padding="same", alpha=1.0, scale=2.0,
                use_bias=True, name="conv1",
            )(x)
        else:
            x = keras.layers.Conv2D(first_filters, KERNEL_SIZE, padding="same", name="conv1")(x)
        if first_layer_norm:
            x = model_builder.batch_norm(x, "bn1")
        x = keras.layers.ReLU(name="relu1")(x)
        x = keras.layers.MaxPooling2D(2, name="pool1")(x)
        x = keras.layers.Conv2D(second_filters, KERNEL_SIZE, padding="valid", name="conv2")(x)
        x = keras.layers.ReLU(name="relu2")(x)
        return keras.layers.MaxPooling2D(2, name="pool2")(x)

    return body


def LeNet(
    variant="A",
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    first_layer_norm=None,
    name=None,
):
    """A LeNet of Table 1 of the push-pull paper: A-D, or PA-PD with push-pull.

    | variant | conv 1 | conv 2 | fully connected |
    |---|---|---|---|
    | A / PA | 6 | 16 | 128, 64, classes |
    | B / PB | 6 | 8 | 64, 32, classes |
    | C / PC | 4 | 16 | 128, 64, classes |
    | D / PD | 4 | 8 | 64, 32, classes |

    The paper gives only the filter counts and fully connected sizes; the
    rest follows LeNet-5: 5x5 kernels, the first convolution padded "same"
    (28x28 MNIST digits are LeNet-5's 32x32 inputs without their border),
    the second "valid", each followed by ReLU and 2x2 max-pooling, so the
    classifier sees 5x5 maps. The P variants replace the first convolution
    by `PushPull2D` (5x5 push kernel, alpha 1, scale 2, so an 11x11 pull
    kernel) with a bias, like the convolution it replaces. Inputs are raw
    gray pixels in [0, 255], normalized inside the model with the MNIST
    mean 0.1307 and std 0.3081.

    Args:
        variant: one of "A", "B", "C", "D", "PA", "PB", "PC", "PD".
        include_top: bool, whether to include the fully connected layers.
        weights: `None` or the path of a `.weights.h5` file.
        input_tensor: optional Keras tensor to use as the model's input.
        input_shape: optional (height, width, channels); defaults to
            (28, 28, 1).
        pooling: `None`, `"avg"` or `"max"`, for `include_top=False`.
        classes: int, number of classes.
        classifier_activation: activation of the last layer; `None` gives
            logits.
        first_layer_norm: bool or `None`, add a BatchNormalization between
            the first layer and its ReLU. `None` (default) means `True` for
            the push-pull variants and `False` for A-D: a push-pull response
            is a difference of two rectified maps whose scale differs from a
            convolution's, and without normalization a push-pull LeNet can
            fail to train.
        name: the model's name; defaults to e.g. `"lenet_pa"`.

    Example:

    >>> from keras_robust.applications import LeNet
    >>> LeNet("PB").count_params() > 0
    True
    """
    if variant not in VARIANTS:
        raise ValueError(f"`variant` must be one of {VARIANTS}. Received: variant={variant!r}")
    push_pull = variant.startswith("P")
    first_filters, second_filters, hidden_units = LENET_VARIANTS[variant[-1]]
    if first_layer_norm is None:
        first_layer_norm = push_pull
    return model_builder.build_classifier(
        lenet_body(first_filters, second_filters, push_pull, bool(first_layer_norm)),
        model_builder.flatten_dense_top(hidden_units),
        name=name or f"lenet_{variant.lower()}",
        default_shape=(28, 28, 1),
        mean=model_builder.MNIST_MEAN,
        std=model_builder.MNIST_STD,
        pretrained_key=f"LeNet{variant}",
        **model_builder.application_arguments(locals()),
    )
