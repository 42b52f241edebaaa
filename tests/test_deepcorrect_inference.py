"""optimize_for_inference: every DeepCorrect variant as plain convolutions with the same predictions."""

import keras
import numpy as np
import pytest
from keras import layers

from keras_robust.deepcorrect import build_deepcorrect, decompose_conv, optimize_for_inference, to_rank_constrained
from keras_robust.layers import ChannelCorrection
from keras_robust.utils import count_flops


def small_model():
    inputs = keras.Input((10, 10, 3))
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="stem")(inputs)
    x = layers.ReLU()(layers.BatchNormalization(name="stem_bn")(x))
    y = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv_a")(x)
    y = layers.BatchNormalization(name="bn_a")(y)
    x = layers.ReLU()(layers.Add(name="add")([x, y]))
    x = layers.Conv2D(6, 3, strides=2, activation="relu", name="conv_b")(x)
    outputs = layers.Dense(4, activation="softmax")(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, outputs)


def randomized(model, seed=1):
    """Random non-trivial weights everywhere (units are the identity when new)."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        low = 0.5 if any(key in weight.path for key in ("variance", "gamma")) else -0.5
        weight.assign(rng.uniform(low, low + 1.0, weight.shape).astype("float32"))
    return model


def check_same_function(model, **options):
    fast = optimize_for_inference(model, **options)
    assert not any(isinstance(l, (ChannelCorrection, layers.BatchNormalization, keras.Model)) for l in fast.layers)
    # the units' ReLUs (after convolutions) are the convolutions' activations
    assert not any(isinstance(l, layers.ReLU) and "correction" in l.name for l in fast.layers)
    x = np.random.default_rng(0).uniform(0, 1, (6, *model.inputs[0].shape[1:])).astype("float32")
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fast(x)), expected, rtol=1e-4, atol=1e-6)
    assert np.ptp(expected) > 1e-2  # the corrections change the output: the check is not vacuous
    return fast


@pytest.mark.parametrize("unit", ["full", "bottleneck", "rank_constrained"])
def test_every_variant_has_the_same_predictions_without_gathers(unit):
    base = small_model()
    orders = {"stem": np.array([5, 1, 7, 0, 2, 3, 4, 6]), "add": np.arange(8)[::-1]}
    corrected = randomized(build_deepcorrect(base, orders, {"stem": 0.5, "add": 0.75}, unit=unit))
    fast = check_same_function(corrected, channel_multiple=1)
    assert count_flops(fast) < count_flops(corrected) * 1.1  # only the 1×1 convolutions read every channel
    padded = check_same_function(corrected)  # channel_multiple=8: the units' inner maps padded with zero maps
    inner = [l for l in padded.layers if isinstance(l, layers.Conv2D) and "correction" in l.name]
    assert inner and all(l.kernel.shape[2] % 8 == 0 for l in inner if not l.name.endswith("reduce"))
    assert all(l.filters % 8 == 0 for l in inner)
    assert {l.filters for l in fast.layers if isinstance(l, layers.Conv2D) and "correction" in l.name} != {8}
    if unit == "bottleneck":
        rank_constrained = to_rank_constrained(corrected, 2, target_flops=count_flops(base))
        for multiple in (1, 8, 16):
            check_same_function(rank_constrained, channel_multiple=multiple)


def test_pairs_are_merged_back_where_the_pair_costs_more():
    inputs = keras.Input((10, 10, 4))
    conv = layers.Conv2D(4, 3, padding="same", name="conv")
    model = keras.Model(inputs, layers.GlobalAveragePooling2D()(conv(inputs)))
    randomized(model)
    expensive = keras.Model(inputs, layers.GlobalAveragePooling2D()(decompose_conv(conv, rank=12)(inputs)))
    merged = check_same_function(expensive)  # 3·4·12 + 3·12·4 multiply-adds per position > 3·3·4·4
    assert [l.name for l in merged.layers if isinstance(l, layers.Conv2D)] == ["conv"]
    cheap = keras.Model(inputs, layers.GlobalAveragePooling2D()(decompose_conv(conv, rank=2)(inputs)))
    kept = optimize_for_inference(cheap)
    assert [l.name for l in kept.layers if isinstance(l, layers.Conv2D)] == ["conv_vertical", "conv_horizontal"]


def test_merge_pairs_always_merges_every_pair_with_the_same_predictions():
    inputs = keras.Input((10, 10, 4))
    conv = layers.Conv2D(4, 3, padding="same", name="conv")
    randomized(keras.Model(inputs, conv(inputs)))
    cheap = keras.Model(inputs, layers.GlobalAveragePooling2D()(decompose_conv(conv, rank=2)(inputs)))
    merged = optimize_for_inference(cheap, merge_pairs="always")
    assert [l.name for l in merged.layers if isinstance(l, layers.Conv2D)] == ["conv"]
    x = np.random.default_rng(0).uniform(0, 1, (3, 10, 10, 4)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(merged(x)), keras.ops.convert_to_numpy(cheap(x)),
                               rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="merge_pairs"):
        optimize_for_inference(cheap, merge_pairs="sometimes")
    with pytest.raises(ValueError, match="channel_multiple=0"):
        optimize_for_inference(cheap, channel_multiple=0)


def test_padding_keeps_outputs_and_shared_maps_unpadded():
    """Only maps that convolutions alone read are padded; a ReLU that alone reads a convolution is fused into it."""
    inputs = keras.Input((6, 6, 3))
    a = layers.Conv2D(5, 3, padding="same", name="a")(inputs)
    relu = layers.ReLU(name="relu")(a)
    b = layers.Conv2D(6, 1, activation="relu", name="b")(relu)
    c = layers.Conv2D(3, 3, padding="same", name="c")(b)
    model = randomized(keras.Model(inputs, [layers.Add(name="add")([relu, layers.Conv2D(5, 1, name="d")(c)]), c]))
    fast = optimize_for_inference(model)
    assert [fast.get_layer(n).filters for n in "abcd"] == [5, 8, 3, 5]
    assert fast.get_layer("c").kernel.shape[2] == 8  # b's maps padded; a's not: the add reads them too
    assert fast.get_layer("a").activation is keras.activations.relu
    assert not any(isinstance(l, layers.ReLU) for l in fast.layers)
    x = np.random.default_rng(0).uniform(0, 1, (2, 6, 6, 3)).astype("float32")
    for got, expected in zip(fast(x), model(x)):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(expected),
                                   rtol=1e-5, atol=1e-6)
