"""DeepCorrect models start where the pretrained network is; the frozen batch norms' two behaviours; the tensor
pipeline's batches against the NumPy ones; exact resume of `fit_deepcorrect`."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from keras_robust.applications import ResNet20
from keras_robust.corruptions import distort
from keras_robust.deepcorrect import build_deepcorrect, fit_deepcorrect, optimize_for_inference, to_rank_constrained
from keras_robust.deepcorrect.batches import affine_transform as numpy_affine
from keras_robust.deepcorrect.batches import augment_images
from keras_robust.deepcorrect.evaluation import AccuracyCurve
from keras_robust.deepcorrect.pipeline import (
    affine_parameters, affine_transform, gaussian_blur, mixed_batch, mixed_distortion_dataset,
)
from keras_robust.deepcorrect.distortions import resolve
from test_deepcorrect_inference import randomized
from test_deepcorrect_inference import small_model as inference_model


def small_model():
    """The inference tests' model with pretrained-like weights: statistics and scales far from the defaults."""
    return randomized(inference_model())


ORDERS = {"stem": np.array([5, 1, 7, 0, 2, 3, 4, 6]), "add": np.arange(8)[::-1]}
X = np.random.default_rng(0).uniform(0, 1, (8, 10, 10, 3)).astype("float32")


def largest_difference(model, base, x=X):
    return float(np.abs(model.predict(x, verbose=0) - base.predict(x, verbose=0)).max())


@pytest.mark.parametrize("unit", ["full", "bottleneck", "rank_constrained"])
def test_every_unit_form_starts_as_the_identity(unit):
    base = small_model()
    corrected = build_deepcorrect(base, ORDERS, {"stem": 0.5, "add": 0.75}, unit=unit)
    assert largest_difference(corrected, base) <= 1e-5
    assert largest_difference(optimize_for_inference(corrected), base) <= 1e-5
    if unit == "bottleneck":
        decomposed = to_rank_constrained(corrected, 2)
        assert largest_difference(decomposed, base) <= 1e-5
        assert largest_difference(optimize_for_inference(decomposed), base) <= 1e-5
    he = build_deepcorrect(base, ORDERS, {"stem": 0.5, "add": 0.75}, unit=unit, start="he_normal")
    assert largest_difference(he, base) > 1e-3  # the authors' start moves the predictions: the check can fail


def test_shipped_resnet20_with_ten_units_predicts_as_before_training():
    base = ResNet20()
    points = ["conv1"] + [f"layer{s}_{b}_add" for s in (1, 2, 3) for b in (0, 1, 2)]
    rng = np.random.default_rng(0)
    orders = {p: rng.permutation(base.get_layer(p).output.shape[-1]) for p in points}
    x = rng.uniform(0, 255, (16, 32, 32, 3)).astype("float32")
    for unit in ("full", "bottleneck"):
        assert largest_difference(build_deepcorrect(base, orders, 0.75, unit=unit), base, x) <= 1e-5


def test_batch_norm_frozen_or_adapted_to_the_training_batches():
    base = small_model()
    labels = np.arange(len(X)) % 4

    def trained(batch_norm):
        model = build_deepcorrect(base, ORDERS, 0.5, batch_norm=batch_norm)
        fit_deepcorrect(model, X, labels, "awgn", epochs=1, batch_size=8, learning_rate=0.01, augment=False)
        return {w.path: keras.ops.convert_to_numpy(w) for w in model.layers[-0].weights} | {
            w.path: keras.ops.convert_to_numpy(w) for w in model.get_layer("bn_a").weights}

    before = {w.path: keras.ops.convert_to_numpy(w) for w in base.get_layer("bn_a").weights}
    frozen, adapted = trained("frozen"), trained("adapt")
    for path, value in before.items():
        np.testing.assert_array_equal(frozen[path], value)  # inference statistics: nothing of the base moves
        if "moving" in path:
            assert np.abs(adapted[path] - value).max() > 1e-3  # statistics follow the training batches
        else:
            np.testing.assert_array_equal(adapted[path], value)  # scale and offset stay frozen
    with pytest.raises(ValueError, match="batch_norm"):
        build_deepcorrect(base, ORDERS, 0.5, batch_norm="train")


def test_tensor_augmentation_equals_the_numpy_one_for_the_same_draws():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (16, 32, 32, 3)).astype("float32")
    angles, shifts, flips = rng.uniform(-0.35, 0.35, 16), rng.uniform(-0.15, 0.15, (16, 2)), rng.random(16) < 0.5
    expected = numpy_affine(x, angles, shifts, flips)
    got = affine_transform(tf.constant(x), tf.constant(angles, tf.float32), tf.constant(shifts, tf.float32),
                           tf.constant(flips)).numpy()
    assert np.abs(got - expected).max() < 0.01  # float32 coordinates against float64
    assert np.abs(expected - x).mean() > 10  # the transforms move the pixels


def test_tensor_augmentation_draws_the_numpy_distributions():
    count = 4000
    angles, shifts, flips = (t.numpy() for t in affine_parameters(count, tf.constant([3, 4], tf.int64)))
    rng = np.random.default_rng(0)  # the draws of augment_images
    ref_angles = np.deg2rad(rng.uniform(-20, 20, count))
    ref_shifts = rng.uniform(-0.15, 0.15, (count, 2))
    assert stats.ks_2samp(angles, ref_angles).pvalue > 1e-3
    assert stats.ks_2samp(shifts.ravel(), ref_shifts.ravel()).pvalue > 1e-3
    assert abs(flips.mean() - 0.5) < 0.03 and np.abs(angles).max() <= np.deg2rad(20) + 1e-6
    # and a whole augmented batch moves pixels as much as the NumPy one on the same images
    x = np.random.default_rng(1).integers(0, 256, (256, 16, 16, 3)).astype("float32")
    smooth = np.stack([augment_images(x[:, ::1], seed=s)[0] for s in range(1)])
    ours = mixed_batch(tf.constant(x), resolve("awgn"), (0.0,), tf.constant([1, 2], tf.int64)).numpy()
    theirs = np.clip(np.round(augment_images(x, seed=5)), 0, 255)
    assert smooth.shape == (1, 16, 16, 3)
    assert abs(np.abs(ours - x).mean() - np.abs(theirs - x).mean()) < 0.1 * np.abs(theirs - x).mean()


@pytest.mark.parametrize("sigma", [0.5, 1.5, 3.0])
def test_tensor_blur_is_the_registry_blur(sigma):
    x = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3)).astype("uint8")
    expected = distort(x, "deepcorrect/gaussian_blur", sigma)
    np.testing.assert_allclose(gaussian_blur(tf.constant(x, tf.float32), sigma).numpy(), expected, atol=1e-3)


def test_mixed_batches_half_distorted_at_uniform_levels():
    x = np.full((64, 8, 8, 3), 100, np.uint8)
    levels = (5.0, 10.0, 30.0)
    batches = [b.numpy() for b, _ in mixed_distortion_dataset(x, np.zeros(64), "awgn", levels, 64, augment=False,
                                                               stop_step=60)]
    stds = np.concatenate([b.std(axis=(1, 2, 3)) for b in batches])
    clean = stds == 0
    assert all((b.std(axis=(1, 2, 3)) == 0).sum() == 32 for b in batches)  # exactly half, as the NumPy batches
    nearest = np.abs(stds[~clean, None] - np.array(levels)).argmin(axis=1)
    counts = np.bincount(nearest, minlength=3)
    assert stats.chisquare(counts).pvalue > 1e-3  # each level equally likely
    assert np.allclose([stds[~clean][nearest == i].mean() for i in range(3)], levels, rtol=0.05)
    # the NumPy batches: the same split and levels
    from keras_robust.deepcorrect.batches import MixedDistortionBatches
    reference = MixedDistortionBatches(x, np.zeros(64), "awgn", levels, 64, augment=False)
    assert (reference[0][0].std(axis=(1, 2, 3)) == 0).sum() == 32


def test_batches_depend_only_on_seed_and_step():
    x = np.random.default_rng(0).integers(0, 256, (10, 8, 8, 3)).astype("uint8")
    full = [b.numpy() for b, _ in mixed_distortion_dataset(x, np.arange(10), "gaussian_blur", batch_size=4,
                                                            stop_step=7)]
    resumed = [b.numpy() for b, _ in mixed_distortion_dataset(x, np.arange(10), "gaussian_blur", batch_size=4,
                                                               start_step=4, stop_step=7)]
    assert [len(b) for b in full] == [4, 4, 2, 4, 4, 2, 4]
    for a, b in zip(full[4:], resumed):
        np.testing.assert_array_equal(a, b)
    other = [b.numpy() for b, _ in mixed_distortion_dataset(x, np.arange(10), "gaussian_blur", batch_size=4,
                                                            seed=1, stop_step=1)]
    assert not np.array_equal(other[0], full[0])


def test_registry_distortions_without_tensor_form_run_in_the_pipeline():
    x = np.random.default_rng(0).integers(0, 256, (8, 16, 16, 3)).astype("uint8")
    batch, _ = next(iter(mixed_distortion_dataset(x, np.arange(8), "cifar/fog", batch_size=8, augment=False,
                                                  stop_step=1)))
    changed = np.any(batch.numpy() != x[np.argsort(np.argsort(np.arange(8)))][:0].sum() + batch.numpy(), axis=0)
    assert batch.shape == (8, 16, 16, 3) and changed.shape == (16, 16, 3)
    assert sum(np.any(batch.numpy()[i] != x[j]) for i in range(8) for j in range(8)) >= 8 * 8 - 4


def test_fit_deepcorrect_resumes_exactly(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (40, 10, 10, 3)).astype("uint8")
    labels = np.arange(40) % 4

    def model():
        keras.utils.set_random_seed(0)  # the same units' initial weights each time
        return build_deepcorrect(small_model(), ORDERS, 0.5)

    def curve():
        return AccuracyCurve({0.0: x.astype("float32")}, labels, every=3)

    settings = dict(epochs=3, batch_size=8, learning_rate=0.01)
    whole, whole_curve = model(), curve()
    fit_deepcorrect(whole, x, labels, "awgn", callbacks=[whole_curve], **settings)

    class Kill(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)) == 7:
                self.model.stop_training = True  # as a kill after the state of step 6 was written

    fit_deepcorrect(model(), x, labels, "awgn", callbacks=[curve(), Kill()], checkpoint_dir=tmp_path, save_every=3,
                    **settings)
    resumed, resumed_curve = model(), curve()
    fit_deepcorrect(resumed, x, labels, "awgn", callbacks=[resumed_curve], checkpoint_dir=tmp_path, save_every=3,
                    **settings)
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert resumed_curve.points == whole_curve.points and len(whole_curve.points) == 6
    with pytest.raises(ValueError, match="another run"):
        fit_deepcorrect(model(), x, labels, "awgn", checkpoint_dir=tmp_path, **{**settings, "learning_rate": 0.1})


def test_units_saved_before_start_existed_load_with_their_start():
    from keras_robust.layers import CorrectionUnit

    assert CorrectionUnit.from_config({"depth": 2, "expand_initializer": None}).start == "he_normal"
    zeros = {"module": "keras.initializers", "class_name": "Zeros", "config": {}}
    assert CorrectionUnit.from_config({"depth": 2, "expand_initializer": zeros}).start == "identity"
    with pytest.raises(ValueError, match="start"):
        CorrectionUnit(2, start="zeros")
