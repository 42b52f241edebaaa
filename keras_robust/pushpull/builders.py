"""The push-pull parts of the model zoo's builders: the paper's options, their checks and documentation, the layer."""

from keras_robust.layers import PushPull2D

# The push-pull options the authors' checkpoints were trained with (alpha 1, h 2, fixed alpha).
PAPER_PUSH_PULL = {"alpha": 1.0, "scale": 2.0, "trainable_alpha": False}
# The `Args:` lines of the builders' push-pull options.
ARGUMENT_DOCS = {
    "alpha": "float >= 0, the fixed inhibition strength of the push-pull layer (1 in the paper's models; "
    "Table 5). Not used with `trainable_alpha=True`.",
    "scale": "float, the upsampling factor h of the pull kernel (2 in the paper's models; Tables 4 and 5).",
    "trainable_alpha": "bool, learn one alpha per output channel, kept >= 0 by a ReLU (Table 5), initialised "
    "as in the authors' `PPmodule2d`: uniformly in 0.5 ± 1/sqrt(in_channels * filters).",
}


def push_pull_options(name, weights, push_pull, alpha, scale, trainable_alpha, *, shipped=()):
    """The options of builder `name`'s push-pull layer, or `None` for a plain model.

    Refuses shipped weights for options they were not trained with.

    Args:
        name: the builder's name (e.g. `"ResNet20PP"`), for messages.
        weights: the builder's `weights` argument.
        push_pull: bool, whether the model has a push-pull layer.
        alpha, scale, trainable_alpha: the builder's push-pull options.
        shipped: names of the weights shipped for `name`, all trained with `PAPER_PUSH_PULL`.

    Returns:
        A dict `{"alpha", "scale", "trainable_alpha"}` for `push_pull_layer`, or `None`.

    Example:

    >>> from keras_robust.pushpull import push_pull_options
    >>> push_pull_options("ResNet20PP", None, True, 0.5, 2.0, False)
    {'alpha': 0.5, 'scale': 2.0, 'trainable_alpha': False}
    """
    if not push_pull:
        return None
    chosen = {"alpha": alpha, "scale": scale, "trainable_alpha": trainable_alpha}
    if weights in shipped and chosen != PAPER_PUSH_PULL:
        raise ValueError(
            f"weights={weights!r} of {name} were trained with the paper's push-pull layer (alpha 1, "
            "scale 2, alpha not trained); build with weights=None to change these options. "
            f"Received: alpha={alpha!r}, scale={scale!r}, trainable_alpha={trainable_alpha!r}"
        )
    return chosen


def push_pull_layer(x, filters, kernel_size, name, **options):
    """A `PushPull2D` with "same" padding and `options` (alpha, scale, trainable_alpha, ...) applied to `x`.

    Args:
        x: the Keras tensor the layer reads.
        filters: number of output channels.
        kernel_size: size of the push kernel.
        name: the layer's name.
        **options: further `PushPull2D` arguments (those of `push_pull_options`, initializers, `use_bias`).

    Returns:
        The layer's output tensor.

    Example:

    >>> import keras
    >>> from keras_robust.pushpull import push_pull_layer
    >>> push_pull_layer(keras.Input((32, 32, 3)), 16, 3, "conv1", alpha=1.0).shape
    (None, 32, 32, 16)
    """
    return PushPull2D(filters, kernel_size, padding="same", name=name, **options)(x)
