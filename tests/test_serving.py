"""The serving pass of keras_robust.serving: plain forms through the serving hook, folding, pairs, kernels."""

import ast
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from keras_robust import serving
from keras_robust.low_rank import decompose_kernel, full_rank, merge_pair_kernels

PACKAGE = Path(__file__).resolve().parent.parent / "keras_robust"


class Doubled(layers.Layer):
    """A layer with the serving hook: `2 x`, served as a `Rescaling`."""

    def call(self, inputs):
        return 2.0 * inputs

    def serving_form(self, inputs, *, merge_pairs):
        assert merge_pairs == "never"
        return layers.Rescaling(2.0, name=f"{self.name}_plain")(inputs)


def test_a_layer_supplies_its_plain_form_through_the_hook():
    inputs = keras.Input((6, 6, 2))
    x = layers.Conv2D(3, 3, padding="same", use_bias=False, name="conv")(inputs)
    x = Doubled(name="doubled")(layers.BatchNormalization(name="bn")(x))
    model = keras.Model(inputs, layers.GlobalAveragePooling2D()(x))
    model.get_layer("bn").moving_variance.assign(np.full(3, 4.0, "float32"))
    fast = serving.optimize_for_inference(model, merge_pairs="never", name="fast")
    assert [type(l).__name__ for l in fast.layers] == ["InputLayer", "Conv2D", "Rescaling", "GlobalAveragePooling2D"]
    assert fast.name == "fast" and fast.get_layer("doubled_plain").scale == 2.0
    x = np.random.default_rng(0).uniform(0, 1, (2, 6, 6, 2)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fast(x)), keras.ops.convert_to_numpy(model(x)),
                               atol=1e-6)


def test_merged_pair_kernels_are_the_pair():
    kernel = np.random.default_rng(0).normal(size=(3, 5, 4, 6))
    vertical, horizontal = decompose_kernel(kernel, full_rank(kernel.shape))
    np.testing.assert_allclose(merge_pair_kernels(vertical, horizontal), kernel, atol=1e-10)
    with pytest.raises(ValueError, match="Received: rank=13"):
        decompose_kernel(kernel, 13)


def test_serving_and_low_rank_never_import_deepcorrect_or_layers():
    for name in ("serving.py", "low_rank.py", "export.py"):
        tree = ast.parse((PACKAGE / name).read_text())
        modules = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [m for m in modules if m.startswith(("keras_robust.deepcorrect", "keras_robust.layers"))], name
