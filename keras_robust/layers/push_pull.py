"""The push-pull inhibition layer of Strisciuglio et al. (2020)."""

import math

import keras
import numpy as np
from keras import ops

from keras_robust.validation import (
    check_bool,
    check_choice,
    check_int,
    check_int_tuple,
    check_number,
)

PADDINGS = ("same", "valid")
PULL_KERNELS = ("upsampled", "inverted")
DATA_FORMATS = ("channels_last", "channels_first")
# Bounds that keep a layer built from any config small: the paper uses h <= 2.5
# and 3x3 to 7x7 kernels; a pull kernel is at most (8 * 64 + 1) wide.
MAX_SCALE = 8
MAX_KERNEL_SIZE = 64


def pull_kernel_size(size, scale):
    """Side of the pull kernel: ⌊s·h⌋ + 1 − (⌊s·h⌋ mod 2), always odd; `s` itself for h = 1.

    With `h = 1` the authors' layer uses the push kernel as it is (negated),
    whatever the parity of its side.
    """
    if scale == 1:
        return size
    scaled = math.floor(size * scale)
    return scaled + 1 - scaled % 2


def bilinear_matrix(size_in, size_out):
    """(size_out, size_in) matrix of 1-D linear interpolation, corners aligned.

    Multiplying a kernel by it on both spatial sides is exactly PyTorch's
    ``Upsample(mode="bilinear", align_corners=True)``.
    """
    matrix = np.zeros((size_out, size_in), dtype="float64")
    if size_in == 1 or size_out == 1:
        matrix[:, 0] = 1.0
        return matrix
    positions = np.arange(size_out) * (size_in - 1) / (size_out - 1)
    low = np.minimum(np.floor(positions).astype(int), size_in - 2)
    frac = positions - low
    matrix[np.arange(size_out), low] = 1.0 - frac
    matrix[np.arange(size_out), low + 1] += frac
    return matrix




def _padding(value):
    return check_choice("padding", value.lower() if isinstance(value, str) else value, PADDINGS)


def _pull_pool_size(value):
    size = check_int("pull_pool_size", value, minimum=1, allow_none=True)
    if size is not None and size % 2 == 0:
        raise ValueError(
            "`pull_pool_size` must be None or an odd positive integer. "
            f"Received: pull_pool_size={value!r}"
        )
    return size


@keras.saving.register_keras_serializable(package="keras_robust")
class PushPull2D(keras.layers.Conv2D):
    """2D push-pull inhibition layer, a `keras.layers.Conv2D` with an inhibitory pull path.

    The response is `activation(ReLU(k * I + b) - alpha * ReLU(k_pull * I - b))`,
    where `k` is the learned push kernel (the `Conv2D` kernel, applied through
    `convolution_op`) and `k_pull` the pull kernel derived from it at every
    call: the push kernel upsampled by `scale` with bilinear interpolation
    aligned at the corners and negated (`pull_kernel="upsampled"`, the paper's
    layer; with `scale=1` the negated push kernel itself, as in the authors'
    code), or the push kernel inverted in place as `-k + max(k) + min(k)` per
    filter (`pull_kernel="inverted"`). The gradient reaches the push kernel
    through both paths. Both convolutions share strides, dilation, groups and
    padding and their centres are aligned, so the two maps match pixel for
    pixel. Every `Conv2D` argument is accepted; the bias defaults to off, as in
    the paper and the authors' layer.

    Args:
        filters: int, number of output channels.
        kernel_size: int or tuple of 2 ints, size of the push kernel, at most
            64 on each side.
        strides: int or tuple of 2 ints. Defaults to 1.
        padding: `"valid"` or `"same"` (case-insensitive). Defaults to
            `"valid"`, like `Conv2D`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to the
            Keras config's `image_data_format`.
        dilation_rate: int or tuple of 2 ints. Defaults to 1.
        groups: int, number of groups the input channels are split into, as
            in `Conv2D`; the pull kernel is grouped like the push kernel.
        activation: activation applied to the push-pull response (after the
            subtraction). Defaults to `None`.
        use_bias: bool. If `True`, a bias is added to the push response and
            subtracted from the pull response, as in the authors' layer.
            Defaults to `False`.
        kernel_initializer: initializer of the push kernel.
        bias_initializer: initializer of the bias.
        kernel_regularizer: optional regularizer of the push kernel.
        bias_regularizer: optional regularizer of the bias.
        activity_regularizer: optional regularizer of the output.
        kernel_constraint: optional constraint on the push kernel.
        bias_constraint: optional constraint on the bias.
        alpha: finite float >= 0, the fixed inhibition strength. Not used with
            `trainable_alpha=True` (as in the authors' layer). Defaults to 1.0.
        scale: float in [1, 8], the upsampling factor `h` of the pull kernel.
            Defaults to 2.0.
        trainable_alpha: bool. If `True`, one alpha per output channel is
            learned and passed through a ReLU so that it stays >= 0.
        alpha_initializer: initializer of the learned alphas. `None` (default)
            follows the authors: uniform in `0.5 ± 1/sqrt(C_in · filters)`.
        pull_kernel: `"upsampled"` (default) or `"inverted"`.
        pull_pool_size: `None` or an odd int: size of a stride-1 average
            pooling ("same" padding) applied to the rectified pull response.
        **kwargs: base `Conv2D` and `Layer` arguments (`name`, `dtype`,
            `trainable`, `lora_rank`, ...).

    Example:

    ```python
    import keras
    import numpy as np
    from keras_robust.layers import PushPull2D

    layer = PushPull2D(16, 3, padding="same", activation="relu")
    assert isinstance(layer, keras.layers.Conv2D)
    assert layer(np.zeros((2, 32, 32, 3), "float32")).shape == (2, 32, 32, 16)
    ```
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
        activation=None,
        use_bias=False,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        alpha=1.0,
        scale=2.0,
        trainable_alpha=False,
        alpha_initializer=None,
        pull_kernel="upsampled",
        pull_pool_size=None,
        **kwargs,
    ):
        # Everything is checked before any state exists, so a hostile config
        # fails here, in constant time, whatever it asks for.
        filters = check_int("filters", filters, minimum=1)
        kernel_size = check_int_tuple("kernel_size", kernel_size, 2, minimum=1, maximum=MAX_KERNEL_SIZE)
        if data_format is not None:
            check_choice("data_format", data_format, DATA_FORMATS)
        self.alpha = check_number("alpha", alpha, minimum=0)
        self.scale = check_number("scale", scale, minimum=1, maximum=MAX_SCALE)
        self.trainable_alpha = check_bool("trainable_alpha", trainable_alpha)
        self.pull_kernel = check_choice("pull_kernel", pull_kernel, PULL_KERNELS)
        self.pull_pool_size = _pull_pool_size(pull_pool_size)
        super().__init__(
            filters,
            kernel_size,
            strides=check_int_tuple("strides", strides, 2, minimum=1),
            padding=_padding(padding),
            data_format=data_format,
            dilation_rate=check_int_tuple("dilation_rate", dilation_rate, 2, minimum=1),
            groups=check_int("groups", groups, minimum=1),
            activation=activation,
            use_bias=check_bool("use_bias", use_bias),
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )
        self.alpha_initializer = (
            None if alpha_initializer is None else keras.initializers.get(alpha_initializer)
        )
        self.input_spec = keras.layers.InputSpec(ndim=4)
        if self.pull_kernel == "upsampled":
            self.pull_size = tuple(pull_kernel_size(s, self.scale) for s in self.kernel_size)
        else:
            self.pull_size = self.kernel_size
        self._upsample_rows = bilinear_matrix(self.kernel_size[0], self.pull_size[0])
        self._upsample_cols = bilinear_matrix(self.kernel_size[1], self.pull_size[1])

    @property
    def channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "PushPull2D expects a 4D input (batch, rows, cols, channels). "
                f"Received: input_shape={input_shape}"
            )
        in_channels = input_shape[self.channel_axis]
        if in_channels is None:
            raise ValueError(
                "The channel dimension of the input of PushPull2D must be "
                f"known. Received: input_shape={input_shape}"
            )
        super().build(input_shape)
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={self.channel_axis: in_channels})
        self.alpha_weight = None
        if self.trainable_alpha:
            initializer = self.alpha_initializer
            if initializer is None:
                # The authors' PPmodule2d: uniform in 0.5 ± 1/sqrt(C_in·C_out).
                spread = 1.0 / math.sqrt(in_channels * self.filters)
                initializer = keras.initializers.RandomUniform(0.5 - spread, 0.5 + spread)
            self.alpha_weight = self.add_weight(
                name="alpha", shape=(self.filters,), initializer=initializer
            )

    def pull_weights(self, kernel=None):
        """The pull kernel derived from `kernel` (the push kernel by default)."""
        kernel = self.kernel if kernel is None else kernel
        if self.pull_kernel == "inverted":
            extremes = ops.max(kernel, axis=(0, 1, 2)) + ops.min(kernel, axis=(0, 1, 2))
            return extremes - kernel
        if self.scale == 1:
            return ops.negative(kernel)
        rows = ops.convert_to_tensor(self._upsample_rows, dtype=kernel.dtype)
        cols = ops.convert_to_tensor(self._upsample_cols, dtype=kernel.dtype)
        return -ops.einsum("ij,jkcf,lk->ilcf", rows, kernel, cols)

    def _rectified(self, inputs, kernel, bias):
        outputs = self.convolution_op(inputs, kernel)
        if bias is not None:
            outputs = outputs + self._per_channel(bias)
        return ops.relu(outputs)

    def _per_channel(self, vector):
        """`vector` of one value per filter, shaped to broadcast over the output maps."""
        shape = (1, 1, 1, -1) if self.data_format == "channels_last" else (1, -1, 1, 1)
        return ops.reshape(vector, shape)

    def _pad_for_pull(self, inputs):
        # With "valid" padding the larger pull kernel needs the input grown by
        # half its extra extent on each side for its centre to sit on the
        # push kernel's; "same" padding already places both the same way.
        if self.padding == "same" or self.pull_size == self.kernel_size:
            return inputs
        extra = [
            d * (p - k) for d, p, k in zip(self.dilation_rate, self.pull_size, self.kernel_size)
        ]
        spatial = [(e // 2, e - e // 2) for e in extra]
        if self.data_format == "channels_last":
            pad_width = [(0, 0)] + spatial + [(0, 0)]
        else:
            pad_width = [(0, 0), (0, 0)] + spatial
        return ops.pad(inputs, pad_width)

    def call(self, inputs):
        kernel = self.kernel
        push = self._rectified(inputs, kernel, self.bias)
        pull_bias = None if self.bias is None else -self.bias
        pull = self._rectified(self._pad_for_pull(inputs), self.pull_weights(kernel), pull_bias)
        if self.pull_pool_size is not None:
            pull = ops.average_pool(
                pull, self.pull_pool_size, strides=1, padding="same", data_format=self.data_format
            )
        if self.alpha_weight is None:
            outputs = push - self.alpha * pull
        else:
            alpha = ops.cast(ops.relu(self.alpha_weight), pull.dtype)
            outputs = push - self._per_channel(alpha) * pull
        return outputs if self.activation is None else self.activation(outputs)

    def _alpha_index(self):
        return 2 if self.use_bias else 1

    def save_own_variables(self, store):
        # Conv2D stores the kernel and the bias; the learned alphas come next,
        # the order the layer's weights have always had in .keras files.
        super().save_own_variables(store)
        if self.built and self.alpha_weight is not None:
            store[str(self._alpha_index())] = self.alpha_weight

    def load_own_variables(self, store):
        super().load_own_variables(store)
        if self.built and self.alpha_weight is not None:
            self.alpha_weight.assign(store[str(self._alpha_index())])

    def get_config(self):
        config = super().get_config()
        config.update(
            alpha=self.alpha,
            scale=self.scale,
            trainable_alpha=self.trainable_alpha,
            alpha_initializer=(
                None
                if self.alpha_initializer is None
                else keras.initializers.serialize(self.alpha_initializer)
            ),
            pull_kernel=self.pull_kernel,
            pull_pool_size=self.pull_pool_size,
        )
        return config
