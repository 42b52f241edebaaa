"""Apply a correction unit to chosen channels of a feature map."""

import keras

from keras_robust.layers.correction_unit import CorrectionUnit
from keras_robust.validation import check_int


@keras.saving.register_keras_serializable(package="keras_robust")
class ChannelCorrection(keras.layers.Layer):
    """Corrects the chosen channels of a feature map, passes the rest unchanged.

    Gathers `channels` (in the given order), runs them through `unit` and
    scatters the result back, so the output has the input's channel order.

    Args:
        channels: indices of the channels to correct (distinct, at least one).
        unit: a `CorrectionUnit` (or its serialized config) applied to them.
        **kwargs: base `keras.layers.Layer` arguments.

    Example:

    ```python
    import numpy as np
    from keras_robust.layers import ChannelCorrection, CorrectionUnit

    layer = ChannelCorrection([3, 0], CorrectionUnit(depth=2))
    x = np.random.rand(1, 4, 4, 5).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(y[..., [1, 2, 4]], x[..., [1, 2, 4]])
    ```
    """

    def __init__(self, channels, unit, **kwargs):
        super().__init__(**kwargs)
        try:
            indices = [check_int("channels", c, minimum=0) for c in channels]
        except (TypeError, ValueError):
            indices = []
        if not indices or len(set(indices)) != len(indices):
            raise ValueError(
                "`channels` must be distinct non-negative integers, at least one. "
                f"Received: channels={channels!r}"
            )
        channels = indices
        if isinstance(unit, dict):
            unit = keras.saving.deserialize_keras_object(unit)
        if not isinstance(unit, CorrectionUnit):
            raise ValueError(
                f"`unit` must be a CorrectionUnit. Received: unit={unit!r}"
            )
        self.channels = channels
        self.unit = unit

    def build(self, input_shape):
        width = input_shape[-1]
        if width is None or max(self.channels) >= width:
            raise ValueError(
                f"`channels` must index the {width} input channels. "
                f"Received: channels={self.channels}"
            )
        if not self.unit.built:
            self.unit.build(tuple(input_shape[:-1]) + (len(self.channels),))

    def call(self, inputs, training=None):
        return self.unit.correct(inputs, self.channels, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            channels=list(self.channels),
            unit=keras.saving.serialize_keras_object(self.unit),
        )
        return config
