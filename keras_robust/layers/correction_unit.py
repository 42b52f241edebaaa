"""The correction unit of DeepCorrect (Borkar & Karam, Fig. 5)."""

import keras
from keras import ops


def _positive_int(value, name, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        accepted = "a positive int or None" if allow_none else "a positive int"
        raise ValueError(f"`{name}` must be {accepted}. Received: {name}={value!r}")
    return value


@keras.saving.register_keras_serializable(package="keras_robust")
class CorrectionUnit(keras.layers.Layer):
    """Residual block that corrects distorted filter outputs (DeepCorrect).

    `x + F(x)` where `F` is a 1×1 convolution to `depth` maps, `stages`
    k×k convolutions each followed by batch normalization and ReLU, and a
    1×1 convolution back to the input width. With `rank=P` every k×k
    convolution is a rank-constrained pair: a k×1 convolution to `P` maps
    followed by a 1×k convolution to `depth` maps (Section IV-C).

    The last convolution starts at zero, so a new unit is the identity.
    The paper's forms: full (`depth = βN`, `stages=2`), bottleneck
    (`depth = βN/2`, `stages=3`) and rank-constrained (bottleneck with a
    `rank`).

    Args:
        depth: number of maps inside the unit (D in Fig. 5).
        kernel_size: spatial side k of the stacked convolutions.
        stages: number of stacked k×k convolutions.
        rank: intermediate maps P of each rank-constrained pair, or `None`
            for full k×k convolutions.
        **kwargs: base `keras.layers.Layer` arguments.

    Example:

    ```python
    import numpy as np
    from keras_robust.layers import CorrectionUnit

    unit = CorrectionUnit(depth=4, kernel_size=3, stages=2)
    y = unit(np.zeros((2, 8, 8, 6), "float32"))
    assert y.shape == (2, 8, 8, 6)
    ```
    """

    def __init__(self, depth, kernel_size=3, stages=2, rank=None, **kwargs):
        super().__init__(**kwargs)
        self.depth = _positive_int(depth, "depth")
        self.kernel_size = _positive_int(kernel_size, "kernel_size")
        self.stages = _positive_int(stages, "stages")
        self.rank = _positive_int(rank, "rank", allow_none=True)

    def _conv(self, filters, kernel, name, use_bias=True, initializer="glorot_uniform"):
        return keras.layers.Conv2D(
            filters, kernel, padding="same", use_bias=use_bias,
            kernel_initializer=initializer, name=name, dtype=self.dtype_policy,
        )

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                "CorrectionUnit needs a known number of channels. "
                f"Received: input_shape={input_shape}"
            )
        k = self.kernel_size
        self.reduce = self._conv(self.depth, 1, "reduce")
        self.reduce.build(input_shape)
        inner_shape = tuple(input_shape[:-1]) + (self.depth,)
        self.stage_convs, self.stage_norms = [], []
        for index in range(self.stages):
            if self.rank is None:
                convs = [self._conv(self.depth, k, f"conv_{index}", use_bias=False)]
            else:
                convs = [
                    self._conv(self.rank, (k, 1), f"vertical_{index}", use_bias=False),
                    self._conv(self.depth, (1, k), f"horizontal_{index}", use_bias=False),
                ]
            shape = inner_shape
            for conv in convs:
                conv.build(shape)
                shape = conv.compute_output_shape(shape)
            # Moving statistics that settle within a short training.
            norm = keras.layers.BatchNormalization(
                momentum=0.9, name=f"norm_{index}", dtype=self.dtype_policy
            )
            norm.build(inner_shape)
            self.stage_convs.append(convs)
            self.stage_norms.append(norm)
        # Zero-initialized: a new unit is the identity and starts from the
        # pretrained network's behaviour.
        self.expand = self._conv(channels, 1, "expand", initializer="zeros")
        self.expand.build(inner_shape)

    def call(self, inputs, training=None):
        x = self.reduce(inputs)
        for convs, norm in zip(self.stage_convs, self.stage_norms):
            for conv in convs:
                x = conv(x)
            x = ops.relu(norm(x, training=training))
        return inputs + self.expand(x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            depth=self.depth,
            kernel_size=self.kernel_size,
            stages=self.stages,
            rank=self.rank,
        )
        return config
