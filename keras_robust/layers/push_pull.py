"""The push-pull inhibition layer of Strisciuglio et al. (2020)."""

import math

import keras
import numpy as np
from keras import ops

PADDINGS = ("same", "valid")
PULL_KERNELS = ("upsampled", "inverted")


def pull_kernel_size(size, scale):
    """Side of the pull kernel: ⌊s·h⌋ + 1 − (⌊s·h⌋ mod 2), always odd."""
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


def _pair(value, name):
    if isinstance(value, int):
        value = (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) and v > 0 for v in value):
        raise ValueError(
            f"`{name}` must be a positive int or a tuple of 2 positive ints. "
            f"Received: {name}={value}"
        )
    return value


@keras.saving.register_keras_serializable(package="keras_robust")
class PushPull2D(keras.layers.Layer):
    """2D push-pull inhibition layer, a drop-in for `keras.layers.Conv2D`.

    The response is `ReLU(k * I) - alpha * ReLU(k_pull * I)`, where `k` is the
    learned push kernel and `k_pull` the pull kernel derived from it at every
    call: the push kernel upsampled by `scale` with bilinear interpolation
    aligned at the corners and negated (`pull_kernel="upsampled"`, the paper's
    layer), or the push kernel inverted in place as `-k + max(k) + min(k)` per
    filter (`pull_kernel="inverted"`). The gradient reaches the push kernel
    through both paths. Both convolutions share strides, dilation and padding
    and their centres are aligned, so the two maps match pixel for pixel.

    Args:
        filters: int, number of output channels.
        kernel_size: int or tuple of 2 ints, size of the push kernel.
        strides: int or tuple of 2 ints. Defaults to 1.
        padding: `"valid"` or `"same"` (case-insensitive). Defaults to
            `"valid"`, like `Conv2D`.
        data_format: `"channels_last"` or `"channels_first"`. Defaults to the
            Keras config's `image_data_format`.
        dilation_rate: int or tuple of 2 ints. Defaults to 1.
        alpha: float >= 0, inhibition strength. With `trainable_alpha=True` it
            is the initial value of each channel's alpha. Defaults to 1.0.
        scale: float > 1, the upsampling factor `h` of the pull kernel.
            Defaults to 2.0.
        trainable_alpha: bool. If `True`, one alpha per output channel is
            learned and passed through a ReLU so that it stays >= 0.
        use_bias: bool. If `True`, a bias is added to the push response and
            subtracted from the pull response, as a convolution bias would be.
            Defaults to `False`.
        pull_kernel: `"upsampled"` (default) or `"inverted"`.
        pull_pool_size: `None` or an odd int: size of a stride-1 average
            pooling ("same" padding) applied to the rectified pull response.
        kernel_initializer: initializer of the push kernel.
        bias_initializer: initializer of the bias.
        kernel_regularizer: optional regularizer of the push kernel.
        bias_regularizer: optional regularizer of the bias.
        activity_regularizer: optional regularizer of the output.
        kernel_constraint: optional constraint on the push kernel.
        bias_constraint: optional constraint on the bias.
        **kwargs: base `Layer` arguments (`name`, `dtype`, `trainable`, ...).

    Example:

    >>> import numpy as np
    >>> from keras_robust.layers import PushPull2D
    >>> layer = PushPull2D(16, 3, padding="same")
    >>> layer(np.zeros((2, 32, 32, 3), "float32")).shape
    (2, 32, 32, 16)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        alpha=1.0,
        scale=2.0,
        trainable_alpha=False,
        use_bias=False,
        pull_kernel="upsampled",
        pull_pool_size=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(
                f"`filters` must be a positive int. Received: filters={filters}"
            )
        padding = str(padding).lower()
        if padding not in PADDINGS:
            raise ValueError(
                f"`padding` must be one of {PADDINGS}. Received: padding={padding}"
            )
        if pull_kernel not in PULL_KERNELS:
            raise ValueError(
                f"`pull_kernel` must be one of {PULL_KERNELS}. "
                f"Received: pull_kernel={pull_kernel}"
            )
        if not isinstance(scale, (int, float)) or scale <= 1:
            raise ValueError(
                f"`scale` must be a number > 1. Received: scale={scale}"
            )
        if not isinstance(alpha, (int, float)) or alpha < 0:
            raise ValueError(
                f"`alpha` must be a number >= 0. Received: alpha={alpha}"
            )
        if pull_pool_size is not None and (
            not isinstance(pull_pool_size, int)
            or pull_pool_size < 1
            or pull_pool_size % 2 == 0
        ):
            raise ValueError(
                "`pull_pool_size` must be None or an odd positive int. "
                f"Received: pull_pool_size={pull_pool_size}"
            )
        self.filters = filters
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")
        self.padding = padding
        data_format = data_format or keras.config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                "`data_format` must be 'channels_last' or 'channels_first'. "
                f"Received: data_format={data_format}"
            )
        self.data_format = data_format
        self.alpha = float(alpha)
        self.scale = float(scale)
        self.trainable_alpha = bool(trainable_alpha)
        self.use_bias = bool(use_bias)
        self.pull_kernel = pull_kernel
        self.pull_pool_size = pull_pool_size
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.input_spec = keras.layers.InputSpec(min_ndim=4, max_ndim=4)

        if pull_kernel == "upsampled":
            self.pull_size = tuple(
                pull_kernel_size(s, self.scale) for s in self.kernel_size
            )
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
        self.input_spec = keras.layers.InputSpec(
            ndim=4, axes={self.channel_axis: in_channels}
        )
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (in_channels, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.alpha_weight = None
        if self.trainable_alpha:
            self.alpha_weight = self.add_weight(
                name="alpha",
                shape=(self.filters,),
                initializer=keras.initializers.Constant(self.alpha),
            )

    def pull_weights(self, kernel=None):
        """The pull kernel derived from `kernel` (the push kernel by default)."""
        kernel = self.kernel if kernel is None else kernel
        if self.pull_kernel == "inverted":
            extremes = ops.max(kernel, axis=(0, 1, 2)) + ops.min(kernel, axis=(0, 1, 2))
            return extremes - kernel
        rows = ops.convert_to_tensor(self._upsample_rows, dtype=kernel.dtype)
        cols = ops.convert_to_tensor(self._upsample_cols, dtype=kernel.dtype)
        return -ops.einsum("ij,jkcf,lk->ilcf", rows, kernel, cols)

    def _convolve(self, inputs, kernel, bias):
        outputs = ops.conv(
            inputs,
            kernel,
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        if bias is not None:
            outputs = outputs + self._per_channel(bias)
        return outputs

    def _per_channel(self, vector):
        """`vector` of one value per filter, shaped to broadcast over the output maps."""
        shape = (1, 1, 1, -1) if self.data_format == "channels_last" else (1, -1, 1, 1)
        return ops.reshape(vector, shape)

    def _pad_for_pull(self, inputs):
        # With "valid" padding the larger pull kernel needs the input grown by
        # half its extra extent on each side for its centre to sit on the
        # push kernel's; "same" padding already places both the same way.
        if self.padding == "same":
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
        push = ops.relu(self._convolve(inputs, kernel, self.bias))
        pull_bias = None if self.bias is None else -self.bias
        pull = ops.relu(
            self._convolve(self._pad_for_pull(inputs), self.pull_weights(kernel), pull_bias)
        )
        if self.pull_pool_size is not None:
            pull = ops.average_pool(
                pull,
                self.pull_pool_size,
                strides=1,
                padding="same",
                data_format=self.data_format,
            )
        if self.alpha_weight is None:
            return push - self.alpha * pull
        alpha = ops.cast(ops.relu(self.alpha_weight), pull.dtype)
        return push - self._per_channel(alpha) * pull

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            spatial = input_shape[1:3]
        else:
            spatial = input_shape[2:4]
        out = []
        for size, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate):
            if size is None:
                out.append(None)
            elif self.padding == "same":
                out.append(-(-size // s))
            else:
                out.append((size - d * (k - 1) - 1) // s + 1)
        if self.data_format == "channels_last":
            return (input_shape[0], *out, self.filters)
        return (input_shape[0], self.filters, *out)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "alpha": self.alpha,
                "scale": self.scale,
                "trainable_alpha": self.trainable_alpha,
                "use_bias": self.use_bias,
                "pull_kernel": self.pull_kernel,
                "pull_pool_size": self.pull_pool_size,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": keras.regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
                "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            }
        )
        return config
