import keras
import numpy as np
import pytest
from keras import layers

from keras_robust.deepcorrect import (
    FilterRanking, build_deepcorrect, decompose_conv, decompose_kernel,
    naive_rank_filters, rank_filters, ranks_for_flops, to_rank_constrained,
)
from keras_robust.deepcorrect.distortions import distort_levels
from keras_robust.deepcorrect.pipeline import mixed_distortion_dataset
from keras_robust.graph import fold_batch_normalization
from keras_robust.deepcorrect.batches import MixedDistortionBatches, augment_images
from keras_robust.deepcorrect.training import (
    bn_recalibrated_copy, finetune_copy, fit_deepcorrect, paper_schedule,
    recalibrate_batch_norm, stability_model, trainable_parameters,
)
from keras_robust.layers import ChannelCorrection, CorrectionUnit
from keras_robust.utils import count_flops


def small_resnet():
    """Conv->BN->ReLU, a fused-activation conv and a residual Add."""
    inputs = keras.Input((12, 12, 3))
    x = layers.Conv2D(6, 3, padding="same", name="stem")(inputs)
    x = layers.ReLU()(layers.BatchNormalization(name="stem_bn")(x))
    y = layers.Conv2D(6, 3, padding="same", name="conv_a")(x)
    y = layers.ReLU()(layers.BatchNormalization(name="bn_a")(y))
    y = layers.Conv2D(6, 3, padding="same", activation="relu", name="conv_b")(y)
    x = layers.ReLU()(layers.Add(name="add")([x, y]))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(4, activation="softmax", name="fc")(x))


def images(count=40, seed=0, shape=(12, 12, 3)):
    rng = np.random.default_rng(seed)
    scale = rng.random((count, 1, 1, shape[-1])) * 4
    return (rng.random((count,) + shape) * scale).astype("float32")


def predict(model, x):
    return model.predict(x, verbose=0)


def make_identity(model):
    """Zero the last 1x1 conv of every correction unit: the units become identities."""
    units = [l.unit for l in model.layers if isinstance(l, ChannelCorrection)]
    for unit in units:
        for weight in unit.expand.weights:
            weight.assign(np.zeros(weight.shape))
    return units


def randomize_units(model, seed=1):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, ChannelCorrection):
            for weight in layer.unit.trainable_weights:
                weight.assign(rng.normal(0, 0.3, weight.shape))


@pytest.mark.parametrize(
    "kwargs, parameters",
    [
        # 1x1 6->4 + BN (gamma, beta), 2 x (3x3 4->4 + BN), 1x1 4->6 (+bias)
        (dict(depth=4, stages=2), 24 + 8 + 2 * 144 + 2 * 8 + 30),
        (dict(depth=3, stages=3), 18 + 6 + 3 * 81 + 3 * 6 + 24),
        (dict(depth=3, stages=3, rank=2), 18 + 6 + 3 * (18 + 18) + 3 * 6 + 24),
    ],
)
def test_correction_unit_forms(kwargs, parameters, tmp_path):
    unit = CorrectionUnit(**kwargs)
    inputs = keras.Input((8, 8, 6))
    model = keras.Model(inputs, unit(inputs))
    assert trainable_parameters(model) == parameters
    x = images(2, shape=(8, 8, 6))
    np.testing.assert_allclose(predict(model, x), x, atol=1e-6)  # starts as the identity
    assert np.abs(keras.ops.convert_to_numpy(CorrectionUnit(**kwargs, start="he_normal")(x)) - x).max() > 1e-3
    rng = np.random.default_rng(0)
    for weight in unit.trainable_weights:
        weight.assign(rng.normal(0, 0.3, weight.shape))
    assert np.abs(predict(model, x) - x).max() > 1e-3
    model.save(tmp_path / "unit.keras")
    loaded = keras.models.load_model(tmp_path / "unit.keras", safe_mode=True)
    np.testing.assert_allclose(predict(loaded, x), predict(model, x), atol=1e-6)
    for weight in unit.expand.weights:
        weight.assign(np.zeros(weight.shape))
    np.testing.assert_allclose(predict(model, x), x, atol=1e-6)  # the skip connection


def test_correction_unit_and_channel_correction_reject_bad_arguments():
    with pytest.raises(ValueError, match="Received: depth=0"):
        CorrectionUnit(depth=0)
    with pytest.raises(ValueError, match="Received: rank=1.5"):
        CorrectionUnit(depth=2, rank=1.5)
    with pytest.raises(ValueError, match="Received: channels"):
        ChannelCorrection([1, 1], CorrectionUnit(depth=2))
    with pytest.raises(ValueError, match="input channels"):
        ChannelCorrection([7], CorrectionUnit(depth=2))(np.zeros((1, 4, 4, 3), "float32"))


def test_channel_correction_changes_only_chosen_channels():
    layer = ChannelCorrection([4, 0, 2], CorrectionUnit(depth=2))
    x = images(2, shape=(6, 6, 5))
    y = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_array_equal(y[..., [1, 3]], x[..., [1, 3]])
    expected = keras.ops.convert_to_numpy(layer.unit(x[..., [4, 0, 2]]))
    np.testing.assert_allclose(y[..., [4, 0, 2]], expected, atol=1e-6)


def randomize_batch_norms(model, seed=1):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            for weight, low in zip(layer.weights, (0.5, -1.0, -1.0, 0.2)):  # gamma, beta, mean, variance
                weight.assign(rng.uniform(low, low + 1.5, weight.shape).astype("float32"))


def test_fold_batch_normalization_keeps_the_function_and_names():
    model = small_resnet()
    x = images(8)
    before = predict(model, x)
    randomize_batch_norms(model)
    assert np.abs(predict(model, x) - before).max() > 1e-3  # the statistics matter
    folded, renamed = fold_batch_normalization(model)
    assert renamed == {"stem_bn": "stem", "bn_a": "conv_a"}
    assert not any(isinstance(l, layers.BatchNormalization) for l in folded.layers)
    assert folded.get_layer("stem").use_bias and folded.get_layer("conv_b") is model.get_layer("conv_b")
    np.testing.assert_allclose(predict(folded, x), predict(model, x), rtol=1e-5, atol=1e-6)


def test_rank_filters_equals_naive_loop_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    model = small_resnet()
    fc = model.get_layer("fc")
    fc.kernel.assign(fc.kernel * 50.0)  # predictions that depend on the image
    randomize_batch_norms(model)  # rank_filters folds them into the convolutions
    clean = images(50)
    rng = np.random.default_rng(3)
    distorted = [clean + rng.normal(0, s, clean.shape).astype("float32") for s in (0.5, 1.5)]
    labels = rng.integers(0, 4, len(clean))
    names = ["stem", "conv_a", "conv_b", "add"]
    fast = rank_filters(model, names, clean, distorted, labels, filter_batch=4, batch_size=16)
    naive = naive_rank_filters(model, names, clean, distorted, labels, batch_size=16)
    assert fast.points == {"stem": "stem_bn", "conv_a": "bn_a", "conv_b": "conv_b", "add": "add"}
    assert fast.baseline == naive.baseline
    for name in names:
        np.testing.assert_array_equal(fast.scores[name], naive.scores[name])
    assert any(np.any(s != 0) for s in fast.scores.values())  # a real check, not all zeros
    fast.save(tmp_path / "ranking.json")
    loaded = FilterRanking.load(tmp_path / "ranking.json")
    for name in names:
        np.testing.assert_array_equal(loaded.order(name), fast.order(name))
        scores = fast.scores[name]
        assert np.all(np.diff(scores[fast.order(name)]) <= 0)
    with pytest.raises(ValueError, match="No layer named 'nope'"):
        rank_filters(model, ["nope"], clean, distorted, labels)
    with pytest.raises(ValueError, match="Received: clean"):
        rank_filters(model, names, clean, [clean[:3]], labels)


def check_deepcorrect(model, layer_names, beta, unit="bottleneck", x=None, **kwargs):
    """Builds a DeepCorrect model and checks freezing, identity and saving."""
    orders = {name: np.random.default_rng(0).permutation(
        model.get_layer(name).output.shape[-1]) for name in layer_names}
    corrected = build_deepcorrect(model, orders, beta, unit=unit, **kwargs)
    corrections = [l for l in corrected.layers if isinstance(l, ChannelCorrection)]
    assert len(corrections) == len(layer_names)
    unit_weights = {id(w) for l in corrections for w in l.trainable_weights}
    assert {id(w) for w in corrected.trainable_weights} == unit_weights
    for layer in corrections:
        order = orders[layer.name.removesuffix("_correction")]
        assert layer.channels == order[: round(beta * len(order))].tolist()
    make_identity(corrected)
    np.testing.assert_allclose(predict(corrected, x), predict(model, x), rtol=1e-4, atol=1e-5)
    randomize_units(corrected)
    assert np.abs(predict(corrected, x) - predict(model, x)).max() > 1e-4
    return corrected


def test_build_deepcorrect_small_graph_trains_units_only(tmp_path):
    model = small_resnet()
    x = images(32)
    corrected = check_deepcorrect(model, ["stem", "conv_a", "conv_b", "add"], 0.5, x=x)
    frozen = [keras.ops.convert_to_numpy(w) for w in corrected.non_trainable_weights]
    original = [keras.ops.convert_to_numpy(w) for w in model.weights]
    fit_deepcorrect(corrected, x, np.arange(32) % 4, "awgn", epochs=1, batch_size=16)
    # pretrained weights and batch-norm statistics are untouched, unit weights moved
    stats = [w for w in corrected.non_trainable_weights if "correction" not in w.path]
    units_stats = [w for w in corrected.non_trainable_weights if "correction" in w.path]
    before = dict(zip([w.path for w in corrected.non_trainable_weights], frozen))
    for weight in stats:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(weight), before[weight.path])
    assert any(not np.array_equal(keras.ops.convert_to_numpy(w), before[w.path]) for w in units_stats)
    for weight, value in zip(model.weights, original):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(weight), value)  # the source model too
    path = tmp_path / "deepcorrect.keras"
    corrected.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(predict(loaded, x), predict(corrected, x), atol=1e-6)


def test_build_deepcorrect_sequential_cnn_with_fused_activations():
    model = keras.Sequential([
        keras.Input((10, 10, 3)),
        layers.Conv2D(8, 3, activation="relu", name="c1"),
        layers.MaxPooling2D(),
        layers.Conv2D(6, 3, activation="relu", name="c2"),
        layers.Flatten(),
        layers.Dense(5, activation="softmax"),
    ])
    corrected = check_deepcorrect(model, ["c1", "c2"], 0.75, unit="full", x=images(4, shape=(10, 10, 3)))
    assert corrected.get_layer("c1").get_config()["activation"] == "linear"
    assert [l.name for l in corrected.layers][2:4] == ["c1_correction", "c1_activation"]


def test_build_deepcorrect_keras_resnet50():
    model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=5)
    corrected = check_deepcorrect(
        model, ["conv1_conv", "conv2_block1_add", "conv3_block2_2_conv"], 0.25,
        unit="rank_constrained", x=images(2, shape=(32, 32, 3)) * 30,
    )
    assert corrected.get_layer("conv1_conv_correction").input.shape[-1] == 64


def test_build_deepcorrect_package_models():
    from keras_robust.applications import AlexNetCIFAR, ResNet20

    x = images(2, shape=(32, 32, 3)) * 60
    check_deepcorrect(ResNet20(), ["conv1", "layer1_0_conv1", "layer2_0_add"], 0.75, x=x)
    check_deepcorrect(AlexNetCIFAR(), ["conv1", "conv5"], 0.5, unit="full", x=x)


def test_build_deepcorrect_rejects_bad_arguments():
    model = small_resnet()
    orders = {"stem": np.arange(6)}
    with pytest.raises(ValueError, match="β must be in"):
        build_deepcorrect(model, orders, 1.5)
    with pytest.raises(ValueError, match="No ranking for layer 'conv_a'"):
        build_deepcorrect(model, orders, {"conv_a": 0.5})
    with pytest.raises(ValueError, match="`unit` must be one of"):
        build_deepcorrect(model, orders, 0.5, unit="huge")


@pytest.mark.parametrize("strides, padding, groups", [(1, "same", 1), (2, "same", 1), (2, "valid", 1), (2, "same", 2)])
def test_decompose_conv_full_rank_reproduces_conv(strides, padding, groups):
    conv = layers.Conv2D(8, 3, strides=strides, padding=padding, groups=groups, activation="relu")
    conv.build((None, 11, 11, 6))
    conv.bias.assign(np.random.default_rng(0).normal(size=8))
    x = images(2, shape=(11, 11, 6))
    expected = keras.ops.convert_to_numpy(conv(x))
    full = decompose_conv(conv, rank=18)  # groups · min(6 / groups · 3, 8 / groups · 3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(full(x)), expected, atol=1e-4)
    errors = [np.abs(keras.ops.convert_to_numpy(decompose_conv(conv, r)(x)) - expected).mean()
              for r in (2, 8)]
    assert errors[0] > errors[1] > 1e-5
    kernel = keras.ops.convert_to_numpy(conv.kernel)
    with pytest.raises(ValueError, match="Received: rank=19"):
        decompose_kernel(kernel, 19, groups)
    if groups > 1:
        with pytest.raises(ValueError, match="multiple of groups=2"):
            decompose_kernel(kernel, 3, groups)


def test_to_rank_constrained_from_bottleneck():
    model = small_resnet()
    x = images(8)
    orders = {name: np.arange(6) for name in ("stem", "conv_a", "add")}
    bottleneck = build_deepcorrect(model, orders, 1.0, unit="bottleneck")
    randomize_units(bottleneck)
    # depth 3, k = 3: full rank of the 3x3 convs is min(3·3, 3·3) = 9
    full = to_rank_constrained(bottleneck, 9, base_ranks={"conv_a": 18})
    np.testing.assert_allclose(predict(full, x), predict(bottleneck, x), rtol=1e-4, atol=1e-5)
    low = to_rank_constrained(bottleneck, {"stem": 1})
    assert np.abs(predict(low, x) - predict(bottleneck, x)).max() > 1e-4
    assert low.get_layer("stem_correction").unit.rank == 1
    assert low.get_layer("add_correction").unit.rank is None
    assert trainable_parameters(low) < trainable_parameters(bottleneck)


def test_to_rank_constrained_target_flops_decomposes_every_kxk_conv():
    model = small_resnet()
    orders = {name: np.arange(6) for name in ("stem", "add")}
    bottleneck = build_deepcorrect(model, orders, 1.0, unit="bottleneck")
    target = count_flops(model)
    rc = to_rank_constrained(bottleneck, 2, target_flops=target)
    assert 0.9 * target < count_flops(rc) <= target < count_flops(bottleneck)
    ranks = ranks_for_flops(to_rank_constrained(bottleneck, 2), target)
    assert sorted(ranks) == ["conv_a", "conv_b", "stem"]  # stem: full rank min(3·3, 6·3) = 9
    assert all(rc.get_layer(name).layers[0].filters == p for name, p in ranks.items())
    assert rc.get_layer("stem_correction").unit.rank == 2
    assert ranks_for_flops(model, 10**9) == {"stem": 9, "conv_a": 18, "conv_b": 18}
    with pytest.raises(ValueError, match="Received: target_flops=10"):
        ranks_for_flops(model, 10)
    with pytest.raises(ValueError, match="not both"):
        to_rank_constrained(bottleneck, 2, base_ranks={"stem": 1}, target_flops=target)


def test_mixed_batches_and_baselines():
    x = (images(10, shape=(8, 8, 3)) * 60).clip(0, 255).round()
    labels = np.arange(10) % 3
    batches = MixedDistortionBatches(x, labels, "gaussian_blur", batch_size=10, seed=0, augment=False)
    batch, batch_labels = batches[0]
    changed = np.any(batch != x[batches._order], axis=(1, 2, 3))
    assert changed.sum() == 5 and np.array_equal(batch_labels, labels[batches._order])
    assert len(distort_levels(x, "awgn")) == 6
    inputs = keras.Input((8, 8, 3))
    hidden = layers.BatchNormalization()(layers.Conv2D(4, 3)(inputs))
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(layers.Flatten()(hidden)))
    everything = trainable_parameters(model)
    model.trainable = False
    assert trainable_parameters(finetune_copy(model)) == everything
    training, evaluated = stability_model(model, alpha=1.0)
    history = fit_deepcorrect(training, x, labels, "awgn", epochs=1, batch_size=5, learning_rate=0.01)
    assert np.isfinite(history.history["loss"][0])
    assert not np.allclose(keras.ops.convert_to_numpy(evaluated.layers[-1].kernel), keras.ops.convert_to_numpy(model.layers[-1].kernel))


def test_augmentation_is_the_authors_rotation_shift_and_flip():
    x = (images(6, shape=(16, 16, 3)) * 60).clip(0, 255).round()
    np.testing.assert_allclose(augment_images(x, rotation=0, shift=0, flip=False), x, atol=1e-4)
    flipped = augment_images(x, seed=3, rotation=0, shift=0)
    mirrored = np.all(np.isclose(flipped, x[:, :, ::-1], atol=1e-4), axis=(1, 2, 3))
    kept = np.all(np.isclose(flipped, x, atol=1e-4), axis=(1, 2, 3))
    assert np.all(mirrored | kept) and mirrored.any() and kept.any()
    moved = augment_images(x, seed=3)
    assert np.all(np.abs(moved - x).mean(axis=(1, 2, 3)) > 1) and np.array_equal(moved, augment_images(x, seed=3))
    batches = MixedDistortionBatches(x, np.arange(6) % 2, "awgn", batch_size=6, seed=0)
    assert not np.allclose(batches[0][0], MixedDistortionBatches(
        x, np.arange(6) % 2, "awgn", batch_size=6, seed=0, augment=False)[0][0])


def test_paper_schedule_warms_up_then_divides_by_ten():
    schedule = paper_schedule(0.1, 110, warmup_steps=10)
    rates = [float(schedule(step)) for step in (0, 9, 10, 39, 40, 69, 70, 100)]
    np.testing.assert_allclose(rates, [0.01, 0.01, 0.1, 0.1, 0.01, 0.01, 0.001, 0.0001], rtol=1e-6)
    np.testing.assert_allclose([float(paper_schedule(0.1, 10)(s)) for s in (0, 2, 3)], [0.1, 0.1, 0.01], rtol=1e-6)


def test_fit_deepcorrect_uses_nesterov_l1_and_warmup():
    model = small_resnet()
    x = (images(16) * 60).clip(0, 255).round()
    corrected = build_deepcorrect(model, {"conv_a": np.arange(6)}, 0.5)
    own = [v.regularizer for v in corrected.trainable_weights]  # the units' own L1 (1e-5) on kernels
    assert any(r is not None for r in own)
    fit_deepcorrect(corrected, x, np.arange(16) % 4, "awgn", epochs=2, batch_size=8, learning_rate=0.1,
                    warmup_epochs=1)
    optimizer = corrected.optimizer
    assert optimizer.nesterov and optimizer.momentum == 0.9 and optimizer.weight_decay is None
    # 2 steps per epoch: one warm-up epoch (steps 0 and 1) at 0.01, then 0.1
    schedule = optimizer.get_config()["learning_rate"]["config"]
    assert schedule["boundaries"][0] == 1 and schedule["values"][:2] == pytest.approx([0.01, 0.1])
    assert [v.regularizer for v in corrected.trainable_weights] == own  # restored after training
    # the L1 term is in the loss: with a huge λ the loss is larger
    plain = fit_deepcorrect(build_deepcorrect(model, {"conv_a": np.arange(6)}, 0.5), x, np.arange(16) % 4,
                            "awgn", epochs=1, batch_size=16, l1=0, augment=False, seed=1)
    heavy = fit_deepcorrect(build_deepcorrect(model, {"conv_a": np.arange(6)}, 0.5), x, np.arange(16) % 4,
                            "awgn", epochs=1, batch_size=16, l1=10.0, augment=False, seed=1)
    assert heavy.history["loss"][0] > plain.history["loss"][0] + 1


def test_bn_recalibration_changes_statistics_only():
    model = small_resnet()
    x = (images(32) * 60).clip(0, 255).round()
    batches = MixedDistortionBatches(x, np.arange(32) % 4, "awgn", batch_size=16, seed=0)
    copy = bn_recalibrated_copy(model, batches)
    stats = ("moving_mean", "moving_variance")
    for layer in copy.layers[1:]:  # after the input layer
        original = model.get_layer(layer.name)
        for weight, before in zip(layer.weights, original.weights):
            changed = not np.allclose(keras.ops.convert_to_numpy(weight), keras.ops.convert_to_numpy(before))
            assert changed == (isinstance(layer, layers.BatchNormalization) and weight.name in stats), weight.path
        assert layer.trainable == original.trainable
    # the statistics are the mean of the two batches' statistics of stem_bn's input
    stem = keras.Model(copy.inputs, copy.get_layer("stem").output)
    means = [keras.ops.convert_to_numpy(stem(batches[i][0])).mean(axis=(0, 1, 2)) for i in range(2)]
    np.testing.assert_allclose(copy.get_layer("stem_bn").moving_mean.numpy(), np.mean(means, axis=0), rtol=1e-4)
    assert copy.get_layer("stem_bn").momentum == model.get_layer("stem_bn").momentum
    # DeepCorrect's option: the frozen network's statistics, then the units train
    corrected = build_deepcorrect(model, {"conv_a": np.arange(6)}, 0.5)
    fit_deepcorrect(corrected, x, np.arange(32) % 4, "awgn", epochs=1, batch_size=16, recalibrate=True)
    same_batches = bn_recalibrated_copy(model, mixed_distortion_dataset(x, np.arange(32) % 4, "awgn", batch_size=16,
                                                                        stop_step=2))
    np.testing.assert_allclose(corrected.get_layer("stem_bn").moving_mean.numpy(),
                               same_batches.get_layer("stem_bn").moving_mean.numpy(), rtol=1e-4)
    np.testing.assert_array_equal(corrected.get_layer("stem").kernel.numpy(), model.get_layer("stem").kernel.numpy())
    assert not corrected.get_layer("stem_bn").trainable
    assert recalibrate_batch_norm(keras.Sequential([keras.Input((3,)), layers.Dense(2)]), [np.ones((2, 3))]) == 0


def test_stability_model_trains_dense_layers_only_on_request():
    model = small_resnet()
    _, everything = stability_model(model)
    training, dense_only = stability_model(model, layers="dense")
    assert trainable_parameters(everything) == trainable_parameters(model)
    assert trainable_parameters(dense_only) == 6 * 4 + 4
    x = (images(8) * 60).clip(0, 255).round()
    fit_deepcorrect(training, x, np.arange(8) % 4, "awgn", epochs=1, batch_size=8, learning_rate=0.01)
    np.testing.assert_array_equal(dense_only.get_layer("stem").kernel.numpy(), model.get_layer("stem").kernel.numpy())
    assert not np.allclose(dense_only.get_layer("fc").kernel.numpy(), model.get_layer("fc").kernel.numpy())
    with pytest.raises(ValueError, match="Received: layers='fc'"):
        stability_model(model, layers="fc")


def test_relative_error_score_is_the_authors_and_orders_like_the_naive_loop():
    keras.utils.set_random_seed(0)
    model = small_resnet()
    fc = model.get_layer("fc")
    fc.kernel.assign(fc.kernel * 50.0)
    clean = images(40)
    rng = np.random.default_rng(3)
    distorted = [clean + rng.normal(0, s, clean.shape).astype("float32") for s in (0.5, 1.5)]
    labels = rng.integers(0, 4, len(clean))
    fast = rank_filters(model, ["stem", "add"], clean, distorted, labels, score="relative_error", filter_batch=4)
    naive = naive_rank_filters(model, ["stem", "add"], clean, distorted, labels, score="relative_error")
    # by hand for filter 0 of "stem": Σ over levels of |e_swap - e_b| / e_b
    swapped_errors, base_errors = [], []
    for d in distorted:
        one = naive_rank_filters(model, ["stem"], clean, d, labels)
        base_errors.append(1 - one.baseline)
        swapped_errors.append(1 - (one.scores["stem"][0] + one.baseline))
    expected = sum(abs(s - b) / max(b, 1 / 40) for s, b in zip(swapped_errors, base_errors))
    assert fast.scores["stem"][0] == pytest.approx(expected)
    for name in ("stem", "add"):
        np.testing.assert_allclose(fast.scores[name], naive.scores[name])
        assert np.all(fast.scores[name] >= 0)
    gain = rank_filters(model, ["stem", "add"], clean, distorted, labels)
    assert any(not np.allclose(gain.scores[n], fast.scores[n]) for n in ("stem", "add"))
    with pytest.raises(ValueError, match="Received: score='tau'"):
        rank_filters(model, ["stem"], clean, distorted, labels, score="tau")
