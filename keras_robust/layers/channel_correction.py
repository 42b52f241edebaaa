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
    import keras
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

    def serving_form(self, inputs, *, merge_pairs="flops"):
        """The layer in inference mode as plain Keras layers on `inputs`, named `<name>_...` (the serving hook).

        See `CorrectionUnit.serving_form`; `keras_robust.serving.optimize_for_inference`
        splices this form in.

        Args:
            inputs: a symbolic 4D channels-last tensor.
            merge_pairs: `"flops"`, `"always"` or `"never"`.

        Returns:
            The output tensor.

        Example:

        ```python
        import keras
        from keras_robust.layers import ChannelCorrection, CorrectionUnit

        inputs = keras.Input((4, 4, 5))
        layer = ChannelCorrection([3, 0], CorrectionUnit(depth=2), name="fix")
        layer.build((None, 4, 4, 5))
        plain = keras.Model(inputs, layer.serving_form(inputs))
        assert plain.get_layer("fix_reduce").kernel.shape == (1, 1, 5, 2)  # reads all five channels
        assert plain.layers[-1].name == "fix_add"
        ```
        """
        return self.unit.serving_form(inputs, self.channels, name=self.name, merge_pairs=merge_pairs)

    def rank_constrained(self, rank):
        """A copy of this layer (called once in a model) with its unit rank-constrained.

        The unit's copy is `CorrectionUnit.rank_constrained(rank)`.

        Args:
            rank: P, the maps of each of the unit's k×1/1×k pairs.

        Returns:
            A built `ChannelCorrection` with the same channels, name and
            `trainable` flag.

        Example:

        ```python
        import keras
        from keras_robust.layers import ChannelCorrection, CorrectionUnit

        inputs = keras.Input((4, 4, 5))
        layer = ChannelCorrection([3, 0], CorrectionUnit(depth=2))
        keras.Model(inputs, layer(inputs))
        assert layer.rank_constrained(3).unit.rank == 3
        ```
        """
        new = ChannelCorrection(self.channels, self.unit.rank_constrained(rank), name=self.name)
        new.build(self.input.shape)
        new.trainable = self.trainable
        return new

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            channels=list(self.channels),
            unit=keras.saving.serialize_keras_object(self.unit),
        )
        return config
