"""What every builder of `keras_robust.applications` shares.

A model is: raw pixels in [0, 255] -> `Rescaling(1/255)` -> per-channel
`Normalization(mean, std**2)` -> a body giving a 4D feature map -> either a
classification top or optional global pooling. The body and the top are the
only parts that differ between architectures.
"""

import inspect
import os

import keras
import numpy as np

from keras_robust.applications import pretrained as pretrained_records
from keras_robust.applications import torch_weights
from keras_robust.pushpull.builders import ARGUMENT_DOCS as PUSH_PULL_ARGUMENT_DOCS
from keras_robust.validation import check_choice, check_int

CIFAR_MEAN = (125.3 / 255, 123.0 / 255, 113.9 / 255)
CIFAR_STD = (63.0 / 255, 62.1 / 255, 66.7 / 255)
MNIST_MEAN = (0.1307,)
MNIST_STD = (0.3081,)
POOLINGS = (None, "avg", "max")
# The keras.applications arguments every builder takes and passes on.
APPLICATION_ARGUMENTS = (
    "include_top", "weights", "input_tensor", "input_shape", "pooling", "classes",
    "classifier_activation",
)
# The number of classes of a builder's top without pretrained weights (with them: the record's `classes`).
DEFAULT_CLASSES = 10
WEIGHT_FILE_SUFFIXES = (".weights.h5", ".npz", ".pth", ".pth.tar", ".pt")

# PyTorch defaults, so that imported checkpoints behave as in training.
BN_EPSILON = 1e-5
BN_MOMENTUM = 0.9
# The authors' initialisation: N(0, sqrt(2 / (kh * kw * out_channels))).
CONV_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "untruncated_normal"},
}


def batch_norm(x, name):
    """PyTorch-equivalent `BatchNorm2d` (eps 1e-5, momentum 0.1)."""
    return keras.layers.BatchNormalization(
        momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name
    )(x)


def conv2d(x, filters, kernel_size, strides=1, name=None, use_bias=False):
    """A convolution padded like PyTorch's `padding=kernel_size // 2`.

    Keras "same" padding puts the extra row and column of a strided
    convolution at the bottom/right only; explicit symmetric zero padding
    followed by a "valid" convolution matches PyTorch exactly.
    """
    layer_kwargs = dict(
        use_bias=use_bias, kernel_initializer=CONV_INITIALIZER, name=name
    )
    if strides == 1 or kernel_size == 1:
        padding = "same" if strides == 1 else "valid"
        return keras.layers.Conv2D(
            filters, kernel_size, strides=strides, padding=padding, **layer_kwargs
        )(x)
    x = keras.layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad")(x)
    return keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding="valid", **layer_kwargs
    )(x)


def model_inputs(input_tensor, input_shape, default_shape, record=None):
    """The `Input` of a builder: `(model_inputs, image_tensor)`; `record`: the pretrained weights it loads."""
    if input_tensor is not None:
        if not keras.backend.is_keras_tensor(input_tensor):
            image = keras.Input(tensor=input_tensor, shape=input_shape)
            return image, image
        return keras.utils.get_source_inputs(input_tensor), input_tensor
    shape = default_shape if input_shape is None else tuple(input_shape)
    if len(shape) != 3 or (shape[-1] is not None and shape[-1] not in (1, 3)):
        raise ValueError(
            "`input_shape` must be (height, width, channels) with 1 or 3 "
            f"channels (channels_last). Received: input_shape={input_shape}"
        )
    if record is not None and shape[-1] != len(record.mean):
        raise ValueError(
            f"weights={record.name!r} of {record.model} needs {len(record.mean)} input channels. "
            f"Received: input_shape={input_shape}"
        )
    return keras.Input(shape=shape), None


def application_arguments(arguments):
    """The keras.applications arguments among a builder's `locals()`."""
    return {key: arguments[key] for key in APPLICATION_ARGUMENTS}


def cifar_input():
    """`build_classifier` settings of 32x32 RGB CIFAR-10 models (pretrained weights use their record's)."""
    return dict(default_shape=(32, 32, 3), mean=CIFAR_MEAN, std=CIFAR_STD)


def check_arguments(name, include_top, weights, pooling, classes, pretrained):
    """Validate the keras.applications-style arguments of a builder.

    Args:
        name: the builder's name, for messages.
        include_top, weights, pooling, classes: the builder's arguments.
        pretrained: the named weights this builder can load (e.g.
            `("cifar10",)`), possibly empty.
    """
    named_weights = {record.name for record in pretrained_records.WEIGHTS.values()}
    if weights in named_weights and weights not in pretrained:
        shipped = sorted({record.model for record in pretrained_records.WEIGHTS.values()})
        raise ValueError(
            f"There are no pretrained weights={weights!r} for {name}: pretrained weights ship "
            f"for {', '.join(shipped)}. Use weights=None or the path of a weights file. "
            f"Received: weights={weights!r}"
        )
    named = weights is None or weights in pretrained
    is_file = isinstance(weights, (str, os.PathLike)) and str(weights).endswith(
        WEIGHT_FILE_SUFFIXES
    )
    if not named and not is_file:
        accepted = ", ".join(repr(w) for w in (None, *pretrained))
        raise ValueError(
            f"`weights` of {name} must be one of {accepted} or the path of a "
            f"weights file ({', '.join(WEIGHT_FILE_SUFFIXES)}). "
            f"Received: weights={weights!r}"
        )
    if is_file and not os.path.isfile(weights):
        raise FileNotFoundError(f"Weights file not found. Received: weights={weights}")
    check_choice("pooling", pooling, POOLINGS)
    classes = check_int("classes", classes, minimum=1)
    record = pretrained_records.pretrained_weights(name, weights) if weights in pretrained else None
    if record is not None and include_top and classes != record.classes:
        raise ValueError(
            f"weights={weights!r} with include_top=True needs classes={record.classes}. "
            f"Received: classes={classes}"
        )


def build_classifier(
    body,
    top,
    *,
    name,
    include_top,
    weights,
    input_tensor,
    input_shape,
    default_shape,
    pooling,
    classes,
    classifier_activation,
    mean,
    std,
    pretrained_key=None,
):
    """Assemble and return a `keras.Model` from a body and a top.

    Args:
        body: callable `(x) -> 4D feature map` building the layers after the
            input normalization.
        top: callable `(x, classes, classifier_activation) -> outputs`
            building the classification top on the feature map.
        name: the model's name.
        default_shape: the input shape without `input_shape`.
        mean, std: per-channel statistics of images scaled to [0, 1].
            With pretrained `weights`, the shape, statistics and number of
            classes (`classes=None`) are read from their `PretrainedWeights`
            record instead.
        pretrained_key: the builder's name (e.g. `"ResNet20PP"`), used in
            messages and to look up its records in
            `keras_robust.applications.WEIGHTS`.
        Other arguments: as in `keras.applications`.
    """
    pretrained = pretrained_records.weights_of(pretrained_key)
    record = pretrained_records.pretrained_weights(pretrained_key, weights) if weights in pretrained else None
    if record is not None:  # the record is the source of truth of what its weights were trained with
        mean, std = record.mean, record.std
        default_shape = record.input_shape or default_shape
    if classes is None:
        classes = record.classes if record is not None else DEFAULT_CLASSES
    check_arguments(pretrained_key or name, include_top, weights, pooling, classes, pretrained)
    inputs, image = model_inputs(input_tensor, input_shape, default_shape, record)
    if image is None:
        image = inputs
    if len(mean) > 1 and image.shape[-1] not in (None, len(mean)):  # grey input: a broadcast error when called
        raise ValueError(
            f"{pretrained_key or name} takes images with {len(mean)} channel(s) (its normalization holds "
            f"{len(mean)} per-channel statistics). Received: input_shape={tuple(image.shape[1:])}")
    x = keras.layers.Rescaling(1.0 / 255, name="rescaling")(image)
    x = keras.layers.Normalization(
        mean=list(mean), variance=list(np.square(std)), name="normalization"
    )(x)
    x = body(x)
    if include_top:
        x = top(x, classes, classifier_activation)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    model = keras.Model(inputs, x, name=name)
    if record is not None:
        torch_weights.load_torch_checkpoint(model, record.verified_path())
    elif weights is not None:
        load_weights_file(model, weights)
    return model


def load_weights_file(model, path):
    """Load a `.weights.h5` file or an authors'-layout state dict."""
    path = str(path)
    if path.endswith(".weights.h5"):
        model.load_weights(path)
        return
    torch_weights.load_torch_checkpoint(model, path)


def global_average_top(layer_name):
    """Top of the CIFAR ResNets and DenseNets: global average pool + Dense."""

    def top(x, classes, classifier_activation):
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        return keras.layers.Dense(
            classes, activation=classifier_activation, name=layer_name
        )(x)

    return top


def flatten_dense_top(hidden_units, dropout=0.0):
    """Top of LeNet and AlexNet: Flatten, ReLU Dense layers (each after a
    Dropout if `dropout` > 0), then the Dense classifier."""

    def top(x, classes, classifier_activation):
        x = keras.layers.Flatten(name="flatten")(x)
        for index, units in enumerate(hidden_units, 1):
            if dropout:
                x = keras.layers.Dropout(dropout, name=f"dropout{index}")(x)
            x = keras.layers.Dense(units, activation="relu", name=f"fc{index}")(x)
        return keras.layers.Dense(
            classes, activation=classifier_activation, name="predictions"
        )(x)

    return top


GENERIC_WEIGHTS_DOC = (
    '`None` (default), the name of weights of `keras_robust.applications.WEIGHTS` shipped for this architecture '
    '(e.g. `"cifar10"`), or the path of a `.weights.h5` file or of a state dict (`.npz`, or '
    "`.pth`/`.pth.tar` with torch)."
)
ARGUMENT_DOCS = {
    "include_top": "bool, whether to include the classification top (the Dense layers).",
    "input_tensor": "optional Keras tensor to use as the model's input.",
    "input_shape": "optional `(height, width, channels)` of the input; defaults to the training images' "
    "shape, (32, 32, 3) for the CIFAR models and (28, 28, 1) for the LeNets.",
    "pooling": '`None`, `"avg"` or `"max"`: the global pooling of the features when `include_top=False` '
    "(`None` returns the 4D feature map).",
    "classes": "int, number of classes of the top; `None` (default): the pretrained weights' `classes` "
    "(see `keras_robust.applications.WEIGHTS`), else 10.",
    "classifier_activation": "activation of the last layer; `None` gives logits.",
    "name": "the model's name.",
    **PUSH_PULL_ARGUMENT_DOCS,
    "batch_norm": "bool, add a BatchNormalization between the first layer and its ReLU. Table 1 has "
    "none (the default); with it the paper's learning rate 0.1 trains reliably even in short runs (see "
    "the LeNet recipe in the training tutorial).",
    "dropout": "float in [0, 1), dropout rate before each hidden fully connected layer.",
}


def _weights_doc(builder_name):
    shipped = pretrained_records.weights_of(builder_name)
    files = "the path of a `.weights.h5` file or of a state dict (`.npz`, or `.pth`/`.pth.tar` with torch)"
    if not shipped:
        return f"`None` (random initialisation; no pretrained weights ship for this model) or {files}."
    records = ", ".join(f'`keras_robust.applications.WEIGHTS["{builder_name}.{w}"]`' for w in shipped)
    names = ", ".join(f'`"{w}"`' for w in shipped)
    return (
        f"{names} (the default: the pretrained weights shipped with the package, "
        f"described by {records}), `None` (random initialisation) or {files}."
    )


def document_arguments(builder=None, **specific):
    """Give `builder`'s docstring an `Args:` section for the parameters of its signature.

    The section is inserted before the docstring's `Example:`; the builder
    itself is returned unchanged (no wrapper), like keras.applications adds
    its shared argument documentation. `specific` documents the parameters
    of this builder only (`depth=...`); used as `@document_arguments(**specific)`
    when given.
    """
    if builder is None:
        return lambda function: document_arguments(function, **specific)
    docs = {**ARGUMENT_DOCS, "weights": _weights_doc(builder.__name__), **specific}
    lines = ["Args:"] + [f"    {name}: {docs[name]}" for name in inspect.signature(builder).parameters]
    head, example = inspect.cleandoc(builder.__doc__).split("Example:")
    builder.__doc__ = f"{head.rstrip()}\n\n" + "\n".join(lines) + f"\n\nExample:{example}"
    return builder
