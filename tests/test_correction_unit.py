"""The forms of a DeepCorrect correction unit: its call, its plain serving form and its rank-constrained copy."""

import keras
import numpy as np
import pytest
from keras import layers

from keras_robust.layers import ChannelCorrection, CorrectionUnit

from test_deepcorrect_inference import randomized  # random weights, batch-norm statistics far from defaults

X = np.random.default_rng(0).uniform(-1, 1, (2, 6, 6, 5)).astype("float32")
UNITS = {
    "full": dict(depth=4, stages=2),
    "bottleneck": dict(depth=3, stages=3),
    "rank_constrained": dict(depth=4, stages=3, rank=2),
}


def built_unit(settings, channels=5):
    unit = CorrectionUnit(**settings, name="unit")
    unit.build((None, 6, 6, channels))
    return randomized(unit)


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def serving_model(layer, *args, **kwargs):
    inputs = keras.Input(X.shape[1:])
    return keras.Model(inputs, layer.serving_form(inputs, *args, **kwargs))


@pytest.mark.parametrize("merge_pairs", ["flops", "always", "never"])
@pytest.mark.parametrize("unit", sorted(UNITS))
def test_serving_form_is_the_unit_as_plain_layers(unit, merge_pairs):
    unit = built_unit(UNITS[unit])
    expected = numpy(unit(X, training=False))
    plain = serving_model(unit, merge_pairs=merge_pairs)
    np.testing.assert_allclose(numpy(plain(X)), expected, atol=1e-5)
    assert np.ptp(expected - X) > 1e-1  # the unit changes its input: the check is not vacuous
    kinds = {type(l) for l in plain.layers}
    assert kinds <= {layers.InputLayer, layers.Conv2D, layers.BatchNormalization, layers.ReLU, layers.Add}
    names = [l.name for l in plain.layers[1:]]
    assert all(name.startswith("unit_") for name in names) and names[0] == "unit_reduce" and names[-1] == "unit_add"
    pairs = sum(name.startswith(("unit_vertical_", "unit_horizontal_")) for name in names)
    merged = sum(name.startswith("unit_conv_") for name in names)
    if unit.rank is None:
        assert (pairs, merged) == (0, unit.stages)
    else:  # rank 2 of 4 maps: the pair costs fewer multiply-adds than the 3×3 convolution
        assert (pairs, merged) == ((0, unit.stages) if merge_pairs == "always" else (2 * unit.stages, 0))


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_channel_correction_serving_form_writes_every_channel(unit):
    correction = ChannelCorrection([4, 1, 2], CorrectionUnit(**UNITS[unit], name="unit"), name="corr")
    correction.build(X.shape)
    randomized(correction)
    expected = numpy(correction(X, training=False))
    plain = serving_model(correction)
    np.testing.assert_allclose(numpy(plain(X)), expected, atol=1e-5)
    np.testing.assert_array_equal(expected[..., [0, 3]], X[..., [0, 3]])
    assert plain.get_layer("corr_reduce").kernel.shape == (1, 1, 5, correction.unit.depth)
    assert plain.get_layer("corr_expand").filters == 5


def test_serving_form_refuses_channels_the_unit_does_not_read():
    unit = built_unit(UNITS["full"], channels=3)
    with pytest.raises(ValueError, match=r"3 input channels. Received: channels=\[0, 1, 2, 3, 4\]"):
        serving_model(unit)


@pytest.mark.parametrize("unit", ["full", "bottleneck"])
def test_rank_constrained_at_full_rank_is_the_unit(unit):
    unit = built_unit(UNITS[unit] | dict(l1=1e-4, start="he_normal"))
    unit.trainable = False
    full = unit.depth * unit.kernel_size
    constrained = unit.rank_constrained(full)
    np.testing.assert_allclose(numpy(constrained(X, training=False)), numpy(unit(X, training=False)), atol=1e-5)
    assert constrained.get_config() == unit.get_config() | {"rank": full}
    assert not constrained.trainable and constrained.built


def test_rank_constrained_below_full_rank_is_the_truncated_svd():
    unit = built_unit(UNITS["full"])
    constrained = unit.rank_constrained(2)
    for convs, (vertical, horizontal) in zip(unit.stage_convs, constrained.stage_convs):
        kernel = numpy(convs[0].kernel).transpose(2, 0, 3, 1).reshape(12, 12)  # (C·kh) x (N·kw)
        u, s, vt = np.linalg.svd(kernel)
        best = (u[:, :2] * s[:2]) @ vt[:2]
        pair = np.einsum("acp,bpn->abcn", numpy(vertical.kernel)[:, 0], numpy(horizontal.kernel)[0])
        np.testing.assert_allclose(pair.transpose(2, 0, 3, 1).reshape(12, 12), best, atol=1e-5)
    np.testing.assert_array_equal(numpy(constrained.expand.kernel), numpy(unit.expand.kernel))
    np.testing.assert_array_equal(numpy(constrained.stage_norms[1].moving_variance),
                                  numpy(unit.stage_norms[1].moving_variance))
    plain = serving_model(constrained)
    np.testing.assert_allclose(numpy(plain(X)), numpy(constrained(X, training=False)), atol=1e-5)


def test_rank_constrained_refuses_a_constrained_unbuilt_or_too_large_rank():
    with pytest.raises(ValueError, match="already rank-constrained.*Received: rank=3"):
        built_unit(UNITS["rank_constrained"]).rank_constrained(3)
    with pytest.raises(ValueError, match="not built"):
        CorrectionUnit(depth=2).rank_constrained(3)
    with pytest.raises(ValueError, match="Received: rank=13"):
        built_unit(UNITS["full"]).rank_constrained(13)


def test_channel_correction_rank_constrained_keeps_channels_name_and_trainable():
    inputs = keras.Input(X.shape[1:])
    correction = ChannelCorrection([4, 1], CorrectionUnit(depth=2, start="he_normal", name="unit"), name="corr")
    keras.Model(inputs, correction(inputs))
    correction.trainable = False
    constrained = correction.rank_constrained(6)
    assert (constrained.channels, constrained.name, constrained.trainable) == ([4, 1], "corr", False)
    assert constrained.unit.rank == 6 and constrained.unit.name == "unit"
    np.testing.assert_allclose(numpy(constrained(X)), numpy(correction(X)), atol=1e-5)
