"""The LeNet variants of Table 1 of Strisciuglio et al. (2020), for MNIST."""

import keras

from keras_robust.applications import model_builder
from keras_robust.applications.pretrained import weights_of
from keras_robust.pushpull import push_pull_layer, push_pull_options
from keras_robust.validation import check_bool, check_choice

# variant -> (filters of conv 1, filters of conv 2, hidden fully connected units)
LENET_VARIANTS = {
    "A": (6, 16, (128, 64)),
    "B": (6, 8, (64, 32)),
    "C": (4, 16, (128, 64)),
    "D": (4, 8, (64, 32)),
}
VARIANTS = tuple(LENET_VARIANTS) + tuple(f"P{v}" for v in LENET_VARIANTS)
KERNEL_SIZE = 5


def lenet_body(first_filters, second_filters, push_pull, batch_norm):
    """Two 5x5 convolution + ReLU + 2x2 max-pooling stages, LeNet-5 style.

    `push_pull`: `None` for a plain first convolution, else the
    `keras_robust.pushpull.push_pull_options` of the push-pull layer replacing it.
    """

    def body(x):
        if push_pull:
            x = push_pull_layer(x, first_filters, KERNEL_SIZE, "conv1", use_bias=True, **push_pull)
        else:
            x = keras.layers.Conv2D(first_filters, KERNEL_SIZE, padding="same", name="conv1")(x)
        if batch_norm:
            x = model_builder.batch_norm(x, "bn1")
        x = keras.layers.ReLU(name="relu1")(x)
        x = keras.layers.MaxPooling2D(2, name="pool1")(x)
        x = keras.layers.Conv2D(second_filters, KERNEL_SIZE, padding="valid", name="conv2")(x)
        x = keras.layers.ReLU(name="relu2")(x)
        return keras.layers.MaxPooling2D(2, name="pool2")(x)

    return body


@model_builder.document_arguments(variant='one of "A", "B", "C", "D", "PA", "PB", "PC", "PD".')
def LeNet(variant="A", include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=None, classifier_activation="softmax", name=None, *, batch_norm=False, alpha=1.0, scale=2.0,
          trainable_alpha=False):
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
    kernel) with a bias, like the convolution it replaces; as in Table 1,
    nothing else changes (no normalization layer unless `batch_norm=True`).
    Inputs are raw gray pixels in [0, 255], normalized inside the model with
    the MNIST mean 0.1307 and std 0.3081. `LeNetA`, ..., `LeNetPD` are this
    builder with a fixed variant.

    Example:

    >>> from keras_robust.applications.lenet import LeNet
    >>> LeNet("PB", batch_norm=True).get_layer("bn1").name
    'bn1'
    """
    check_choice("variant", variant, VARIANTS)
    check_bool("batch_norm", batch_norm)
    push_pull = variant.startswith("P")
    first_filters, second_filters, hidden_units = LENET_VARIANTS[variant[-1]]
    key = f"LeNet{variant}"
    options = push_pull_options(key, weights, push_pull, alpha, scale, trainable_alpha, shipped=weights_of(key))
    return model_builder.build_classifier(
        lenet_body(first_filters, second_filters, options, batch_norm),
        model_builder.flatten_dense_top(hidden_units),
        name=name or f"lenet_{variant.lower()}",
        default_shape=(28, 28, 1),
        mean=model_builder.MNIST_MEAN,
        std=model_builder.MNIST_STD,
        pretrained_key=f"LeNet{variant}",
        **model_builder.application_arguments(locals()),
    )


@model_builder.document_arguments
def LeNetA(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=None,
           classifier_activation="softmax", name="lenet_a", *, batch_norm=False):
    """LeNet-A of Table 1 of the push-pull paper: convolutions of 6 and 16 filters, Dense 128 and 64, for MNIST.

    Example:

    >>> from keras_robust.applications import LeNetA
    >>> LeNetA().count_params()
    62806
    """
    return LeNet("A", **locals())


@model_builder.document_arguments
def LeNetB(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=None,
           classifier_activation="softmax", name="lenet_b", *, batch_norm=False):
    """LeNet-B (Table 1): 6 then 8 filters, fully connected 64 and 32 units.

    Example:

    >>> from keras_robust.applications import LeNetB
    >>> LeNetB(include_top=False).output_shape
    (None, 5, 5, 8)
    """
    return LeNet("B", **locals())


@model_builder.document_arguments
def LeNetC(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=None,
           classifier_activation="softmax", name="lenet_c", *, batch_norm=False):
    """LeNet-C of Table 1, the narrow-first-layer twin of LeNet-A (4 and 16 filters; 128, 64 units).

    Example:

    >>> from keras_robust.applications import LeNetC
    >>> with_bn = LeNetC(batch_norm=True)
    """
    return LeNet("C", **locals())


@model_builder.document_arguments
def LeNetD(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=None,
           classifier_activation="softmax", name="lenet_d", *, batch_norm=False):
    """LeNet-D, the smallest LeNet of Table 1: 4 and 8 filters, 64 and 32 hidden units.

    Example:

    >>> from keras_robust.applications import LeNetD
    >>> LeNetD(input_shape=(32, 32, 3)).output_shape
    (None, 10)
    """
    return LeNet("D", **locals())


@model_builder.document_arguments
def LeNetPA(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=None,
            classifier_activation="softmax", name="lenet_pa", *, batch_norm=False, alpha=1.0, scale=2.0,
            trainable_alpha=False):
    """LeNet-PA of Table 1: LeNet-A whose first convolution is a push-pull layer, and nothing else changed.

    Example:

    >>> from keras_robust.applications import LeNetPA
    >>> layers = [type(layer).__name__ for layer in LeNetPA().layers]
    >>> "BatchNormalization" in layers, layers.index("PushPull2D") + 1 == layers.index("ReLU")
    (False, True)
    """
    return LeNet("PA", **locals())


@model_builder.document_arguments
def LeNetPB(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=None,
            classifier_activation="softmax", name="lenet_pb", *, batch_norm=False, alpha=1.0, scale=2.0,
            trainable_alpha=False):
    """LeNet-PB: LeNet-B with the push-pull first layer (Table 1).

    Example:

    >>> from keras_robust.applications import LeNetPB
    >>> LeNetPB(trainable_alpha=True).get_layer("conv1").trainable_alpha
    True
    """
    return LeNet("PB", **locals())


@model_builder.document_arguments
def LeNetPC(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=None,
            classifier_activation="softmax", name="lenet_pc", *, batch_norm=False, alpha=1.0, scale=2.0,
            trainable_alpha=False):
    """LeNet-PC of Table 1, 4 push-pull filters of 5x5 (pull kernels 11x11) first.

    Example:

    >>> from keras_robust.applications import LeNetPC
    >>> LeNetPC(alpha=0.5, batch_norm=True).get_layer("conv1").alpha
    0.5
    """
    return LeNet("PC", **locals())


@model_builder.document_arguments
def LeNetPD(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=None,
            classifier_activation="softmax", name="lenet_pd", *, batch_norm=False, alpha=1.0, scale=2.0,
            trainable_alpha=False):
    """LeNet-PD: the smallest LeNet (Table 1) with a push-pull layer in place of its first convolution.

    Example:

    >>> from keras_robust.applications import LeNetPD
    >>> LeNetPD(scale=3.0).get_layer("conv1").scale
    3.0
    """
    return LeNet("PD", **locals())
