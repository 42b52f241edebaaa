"""The correction unit of DeepCorrect (Borkar & Karam, Fig. 5)."""

import keras
from keras import ops

from keras_robust.layers.batch_norm_relu import batch_norm_relu
from keras_robust.low_rank import decompose_kernel
from keras_robust.serving import built_copy, plain_convolutions, plain_norm_relu
from keras_robust.validation import check_choice, check_int, check_number

# How a unit starts: as the identity (last 1×1 kernel at zero) or as the authors' (He normal throughout).
STARTS = ("identity", "he_normal")


@keras.saving.register_keras_serializable(package="keras_robust")
class CorrectionUnit(keras.layers.Layer):
    """Residual block that corrects distorted filter outputs (DeepCorrect).

    `x + F(x)` where `F` is the authors' unit (`get_correct_unit_CW` and
    `get_correct_unit_bottleneck` in tsborkar/DeepCorrect): a 1×1 convolution
    to `depth` maps, batch normalization and ReLU; then `stages` k×k
    convolutions, each followed by batch normalization and ReLU; then a 1×1
    convolution back to the input width. With `rank=P` every k×k convolution
    is a rank-constrained pair: a k×1 convolution to `P` maps followed by a
    1×k convolution to `depth` maps (Section IV-C). The paper's forms: full
    (`depth = βN`, `stages=2`), bottleneck (`depth = βN/2`, `stages=3`) and
    rank-constrained (bottleneck with a `rank`).

    Every kernel starts from `kernel_initializer` (He normal, as the
    authors) except the last 1×1, which by default starts at zero: the
    untrained unit is the identity, so a network with units inserted
    starts exactly where the pretrained one is (`start="identity"`). The
    authors' start draws that kernel from `kernel_initializer` too
    (`start="he_normal"`): their units then add a random signal as large as
    the activations they correct, and a pretrained ResNet20 with ten of
    them starts at chance. Every kernel carries an L1 penalty of weight
    `l1` (the paper's regulariser R, 1e-5 in the authors' code); biases
    are not penalised. A convolution followed by batch normalization has no
    bias (the normalization's offset takes its place).

    Args:
        depth: number of maps inside the unit (D in Fig. 5).
        kernel_size: spatial side k of the stacked convolutions.
        stages: number of stacked k×k convolutions.
        rank: intermediate maps P of each rank-constrained pair, or `None`
            for full k×k convolutions.
        kernel_initializer: initializer of every kernel of the unit.
        start: `"identity"` (the last 1×1 kernel starts at zero) or
            `"he_normal"` (from `kernel_initializer`, the authors' start).
            The last bias starts at zero either way.
        l1: weight of the L1 penalty on every kernel, `0` for none.
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

    def __init__(
        self,
        depth,
        kernel_size=3,
        stages=2,
        rank=None,
        kernel_initializer="he_normal",
        start="identity",
        l1=1e-5,
        **kwargs,
    ):
        if "expand_initializer" in kwargs:
            # Files saved before `start` existed: their units had a zero last kernel, or the `kernel_initializer`'s.
            legacy = kwargs.pop("expand_initializer")
            is_zeros = legacy == "zeros" or (isinstance(legacy, dict) and legacy.get("class_name") == "Zeros")
            start = "identity" if is_zeros else "he_normal"
        super().__init__(**kwargs)
        self.depth = check_int("depth", depth, minimum=1)
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=1, maximum=64)
        self.stages = check_int("stages", stages, minimum=1, maximum=64)
        self.rank = check_int("rank", rank, minimum=1, allow_none=True)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.start = check_choice("start", start, STARTS)
        self.l1 = check_number("l1", l1, minimum=0)

    def _conv(self, filters, kernel, name, use_bias, initializer=None):
        # A fresh initializer per convolution: a shared seeded one would repeat its values.
        initializer = keras.initializers.serialize(keras.initializers.get(initializer or self.kernel_initializer))
        return keras.layers.Conv2D(
            filters, kernel, padding="same", use_bias=use_bias,
            kernel_initializer=keras.initializers.get(initializer),
            kernel_regularizer=keras.regularizers.L1(self.l1) if self.l1 else None,
            name=name, dtype=self.dtype_policy,
        )

    def _norm(self, name, shape):
        # Moving statistics that settle within a short training.
        norm = keras.layers.BatchNormalization(momentum=0.9, name=name, dtype=self.dtype_policy)
        norm.build(shape)
        return norm

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                "CorrectionUnit needs a known number of channels. "
                f"Received: input_shape={input_shape}"
            )
        k = self.kernel_size
        inner_shape = tuple(input_shape[:-1]) + (self.depth,)
        self.reduce = self._conv(self.depth, 1, "reduce", use_bias=False)
        self.reduce.build(input_shape)
        self.reduce_norm = self._norm("reduce_norm", inner_shape)
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
            self.stage_convs.append(convs)
            self.stage_norms.append(self._norm(f"norm_{index}", inner_shape))
        self.expand = self._conv(
            channels, 1, "expand", use_bias=True, initializer="zeros" if self.start == "identity" else None
        )
        self.expand.build(inner_shape)

    def _inner(self, reduced, training):
        """The unit's maps after its first 1×1 convolution, up to its last 1×1 convolution."""
        x = batch_norm_relu(self.reduce_norm, reduced, training)
        for convs, norm in zip(self.stage_convs, self.stage_norms):
            for conv in convs:
                x = conv(x)
            x = batch_norm_relu(norm, x, training)
        return x

    def call(self, inputs, training=None):
        return inputs + self.expand(self._inner(self.reduce(inputs), training))

    def correct(self, inputs, channels, training=None):
        """`inputs` with the unit applied to the channels `channels` and the others unchanged.

        The same as gathering the channels, calling the unit and putting its
        output back, with the gather and the scatter folded into the first
        and last 1×1 kernels (a selection matrix times each, derived in the
        call): no channel gather runs forward or backward.
        """
        reduce_kernel, expand_kernel, expand_bias = self._channel_kernels(
            channels, inputs.shape[-1], self.compute_dtype
        )
        x = self._inner(ops.conv(inputs, reduce_kernel, padding="same"), training)
        return inputs + ops.conv(x, expand_kernel, padding="same") + expand_bias

    def _channel_kernels(self, channels, width, dtype):
        """The first and last 1×1 kernels and the last bias on all `width` channels: zero off `channels`.

        Each is the unit's own times a selection matrix (exact: every
        entry is one product by 1 plus zeros).
        """
        select = ops.one_hot(ops.convert_to_tensor(channels), width, dtype=dtype)
        reduce_kernel = ops.einsum("kw,abkd->abwd", select, self.reduce.kernel)
        expand_kernel = ops.einsum("abdk,kw->abdw", self.expand.kernel, select)
        return reduce_kernel, expand_kernel, ops.matmul(self.expand.bias, select)

    def _check_built(self):
        if not self.built:
            raise ValueError(f"The unit has no weights before it is built. Received: unit {self.name!r}, not built")

    def serving_form(self, inputs, channels=None, *, name=None, merge_pairs="flops"):
        """The unit in inference mode as new plain Keras layers applied to `inputs` (the serving hook).

        The layers are a 1×1 `Conv2D` reading every channel of `inputs`
        (zero weights for the channels not in `channels`), batch
        normalization and ReLU, each stage's convolutions (a k×1/1×k pair
        merged into one k×k convolution as `merge_pairs` says, see
        `keras_robust.serving.plain_convolutions`), batch normalization and
        ReLU, a 1×1 `Conv2D` writing every channel (zero weights and bias
        for the others) and an `Add` of `inputs`: the function of
        `correct(inputs, channels, training=False)` without gathering or
        scattering channels. `keras_robust.serving.optimize_for_inference`
        splices this form in and folds its batch normalizations.

        Args:
            inputs: a symbolic 4D channels-last tensor.
            channels: indices of the channels of `inputs` the unit corrects,
                or `None` for all of them, in order.
            name: prefix of the new layers' names (`<name>_reduce`,
                `<name>_norm_0`, ..., `<name>_add`), the unit's name by
                default.
            merge_pairs: `"flops"`, `"always"` or `"never"`.

        Returns:
            The output tensor.

        Example:

        ```python
        import keras
        import numpy as np
        from keras_robust.layers import CorrectionUnit

        unit = CorrectionUnit(depth=4, start="he_normal")
        x = np.random.default_rng(0).uniform(0, 1, (2, 8, 8, 6)).astype("float32")
        expected = unit(x)
        inputs = keras.Input((8, 8, 6))
        plain = keras.Model(inputs, unit.serving_form(inputs))
        np.testing.assert_allclose(plain(x), expected, atol=1e-5)
        ```
        """
        self._check_built()
        width, prefix = inputs.shape[-1], f"{name or self.name}_"
        channels = list(range(width)) if channels is None else list(channels)
        if len(channels) != self.expand.filters:
            raise ValueError(
                f"`channels` must name the unit's {self.expand.filters} input channels. "
                f"Received: channels={channels}"
            )
        reduce_kernel, expand_kernel, expand_bias = map(
            ops.convert_to_numpy, self._channel_kernels(channels, width, self.reduce.kernel.dtype)
        )
        y = built_copy(self.reduce, inputs.shape, [reduce_kernel], name=f"{prefix}reduce")(inputs)
        y = plain_norm_relu(self.reduce_norm, y, f"{prefix}reduce_norm")
        for index, (convs, norm) in enumerate(zip(self.stage_convs, self.stage_norms)):
            y = plain_convolutions(convs, y, merge_pairs, name=f"{prefix}conv_{index}", prefix=prefix)
            y = plain_norm_relu(norm, y, f"{prefix}norm_{index}")
        expand = built_copy(self.expand, y.shape, [expand_kernel, expand_bias], filters=width, name=f"{prefix}expand")
        return keras.layers.Add(name=f"{prefix}add")([inputs, expand(y)])

    def rank_constrained(self, rank):
        """A copy of this built unit whose k×k convolutions are k×1 then 1×k pairs through `rank` maps.

        Each stage's k×k kernel is split by its truncated SVD
        (`keras_robust.low_rank.decompose_kernel`, Section IV-C of the
        paper); the other weights, the settings, the name and `trainable`
        are the unit's. At full rank the copy computes the same function.

        Args:
            rank: P, the maps of each pair, from 1 to `depth · kernel_size`
                (full rank).

        Returns:
            A built `CorrectionUnit` with `rank=rank`.

        Example:

        ```python
        import numpy as np
        from keras_robust.layers import CorrectionUnit

        unit = CorrectionUnit(depth=4, start="he_normal")
        x = np.random.default_rng(0).uniform(0, 1, (2, 8, 8, 6)).astype("float32")
        expected = unit(x)
        np.testing.assert_allclose(unit.rank_constrained(12)(x), expected, atol=1e-5)
        ```
        """
        self._check_built()
        if self.rank is not None:
            raise ValueError(
                f"The unit {self.name!r} is already rank-constrained (rank={self.rank}). Received: rank={rank!r}"
            )
        new = self.__class__.from_config(self.get_config() | {"rank": rank})
        new.build((None, None, None, self.expand.filters))
        kept = [(self.reduce, new.reduce), (self.reduce_norm, new.reduce_norm), (self.expand, new.expand)]
        for source, target in kept + list(zip(self.stage_norms, new.stage_norms)):
            target.set_weights(source.get_weights())
        for convs, (vertical, horizontal) in zip(self.stage_convs, new.stage_convs):
            v, h = decompose_kernel(ops.convert_to_numpy(convs[0].kernel), rank)
            vertical.set_weights([v])
            horizontal.set_weights([h])
        new.trainable = self.trainable
        return new

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            depth=self.depth,
            kernel_size=self.kernel_size,
            stages=self.stages,
            rank=self.rank,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            start=self.start,
            l1=self.l1,
        )
        return config
