"""keras_robust.corruptions: the 19 corruptions, the papers' distortions and the tf.data form."""

import colorsys
import io

import numpy as np
import pytest
from PIL import Image

from keras_robust import corruptions
from keras_robust.corruptions import blur, digital, filters, geometry, spatter, suite

RANDOM = (
    "gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise", "glass_blur", "motion_blur",
    "snow", "frost", "fog", "spatter", "elastic_transform",
)
# mean |corrupted - clean| grows with the severity in the generators for these (CIFAR-10-C's motion blur of
# severities 3 and 4, radius 6 and 8 at sigma 2, differ only in taps weighing under 1e-9: they may tie)
MONOTONIC = (
    "gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise", "defocus_blur", "gaussian_blur",
    "zoom_blur", "motion_blur", "contrast", "brightness", "pixelate", "jpeg_compression",
)


def smooth_images(n, size, channels=3, seed=0):
    """Natural-looking test images: smoothed noise plus a gradient, full 0..255 range."""
    rng = np.random.default_rng(seed)
    base = filters.gaussian_blur(rng.random((n, size, size, channels)).astype(np.float32), 1.0)
    base = (base - base.min()) / (base.max() - base.min())
    ramp = np.linspace(0, 1, size, dtype=np.float32)[None, :, None, None]
    return np.clip((0.7 * base + 0.3 * ramp) * 255, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def cifar_like():
    return smooth_images(4, 32)


def mean_change(a, b):
    return np.abs(a.astype(np.float64) - b).mean()


def test_names_and_subsets():
    everything = corruptions.names()
    assert len(everything) == len(set(everything))
    groups = [corruptions.names(subset) for subset in ("noise", "blur", "weather", "digital")]
    assert [len(group) for group in groups] == [4, 5, 5, 5]
    assert sorted(sum(groups, ())) == sorted(everything)
    for preset in ("cifar", "imagenet"):
        assert set(corruptions.PRESETS[preset]) == set(everything)
        assert all(len(values) == 5 for values in corruptions.PRESETS[preset].values())
    with pytest.raises(ValueError, match="Received: subset='rain'"):
        corruptions.names("rain")


@pytest.mark.parametrize("name", corruptions.names())
def test_every_severity_and_preset_keeps_dtype_and_shape(name, cifar_like):
    grey = smooth_images(2, 32, channels=1, seed=1)
    large = smooth_images(1, 224, seed=2)
    for severity in range(1, 6):
        for images, preset in ((cifar_like, "cifar"), (grey, "cifar"), (grey, "imagenet"), (large, "imagenet")):
            out = corruptions.corrupt(images, name, severity, preset=preset, seed=severity)
            assert out.dtype == np.uint8 and out.shape == images.shape, (name, severity, preset, out.shape)
        assert mean_change(out, large) > 0.05, (name, severity)
    # a non-square size that neither generator had
    odd = smooth_images(1, 48, seed=3)[:, :40]
    assert corruptions.corrupt(odd, name, 3, seed=0).shape == odd.shape


@pytest.mark.parametrize("preset", ["cifar", "imagenet"])
def test_severity_increases_the_change(preset, cifar_like):
    for name in MONOTONIC:
        changes = [mean_change(corruptions.corrupt(cifar_like, name, s, preset=preset, seed=0), cifar_like) for s in range(1, 6)]
        steps = np.diff(changes)
        increasing = all(steps >= 0) and steps.sum() > 0 if name == "motion_blur" else all(steps > 0)
        assert increasing, (name, preset, np.round(changes, 2))


def test_same_seed_same_bytes_other_seed_other_bytes(cifar_like):
    for name in corruptions.names():
        first = corruptions.corrupt(cifar_like, name, 3, seed=7)
        again = corruptions.corrupt(cifar_like, name, 3, seed=7)
        other = corruptions.corrupt(cifar_like, name, 3, seed=8)
        assert first.tobytes() == again.tobytes(), name
        assert (first.tobytes() != other.tobytes()) == (name in RANDOM), name
    default = [corruptions.corrupt(cifar_like, "gaussian_noise", 1) for _ in range(2)]
    assert default[0].tobytes() == default[1].tobytes()  # seed=0 by default
    fresh = [corruptions.corrupt(cifar_like, "gaussian_noise", 1, seed=None) for _ in range(2)]
    assert fresh[0].tobytes() != fresh[1].tobytes()


def test_the_bytes_do_not_depend_on_the_number_of_threads(monkeypatch):
    images = np.repeat(smooth_images(2, 32, seed=8), 3, axis=0)
    # chunks of two images: three chunks, each with its own random stream
    monkeypatch.setattr(suite, "_CHUNK_VALUES", 2 * 32 * 32 * 3)
    names = ("gaussian_noise", "glass_blur", "spatter", "jpeg_compression")
    threaded = [corruptions.corrupt(images, name, 3, seed=11) for name in names]
    monkeypatch.setattr(suite, "_helper_threads", lambda: (None, 0))  # the calling thread alone
    for name, expected in zip(names, threaded):
        np.testing.assert_array_equal(corruptions.corrupt(images, name, 3, seed=11), expected)
    # the same two images in other chunks draw other noise
    assert not np.array_equal(threaded[0][:2], threaded[0][2:4])


@pytest.mark.parametrize(
    "images, kwargs, message",
    [
        (np.zeros((2, 32, 32, 3), np.float32), {}, "Received: dtype=float32"),
        (np.zeros((32, 32, 3), np.uint8), {}, r"Received: shape=\(32, 32, 3\)"),
        (np.zeros((2, 32, 32, 4), np.uint8), {}, r"Received: shape=\(2, 32, 32, 4\)"),
        (np.zeros((2, 4, 4, 3), np.uint8), {}, "at least 8"),
        ([[[[0, 0, 0]]]], {}, "Received: list"),
        (np.zeros((2, 32, 32, 3), np.uint8), {"name": "rain"}, "Received: name='rain'; accepted: gaussian_noise"),
        (np.zeros((2, 32, 32, 3), np.uint8), {"severity": 0}, "Received: severity=0"),
        (np.zeros((2, 32, 32, 3), np.uint8), {"severity": 6}, "Received: severity=6"),
        (np.zeros((2, 32, 32, 3), np.uint8), {"severity": 2.0}, "Received: severity=2.0"),
        (np.zeros((2, 32, 32, 3), np.uint8), {"preset": "tiny"}, "Received: preset='tiny'; accepted: 'cifar', 'imagenet'"),
    ],
)
def test_bad_input_is_a_clear_value_error(images, kwargs, message):
    arguments = {"name": "fog", "severity": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        corruptions.corrupt(images, arguments.pop("name"), arguments.pop("severity"), **arguments)


@pytest.mark.parametrize("preset", ["cifar", "imagenet"])
def test_pixelate_and_jpeg_equal_pillow(preset, cifar_like):
    images = smooth_images(2, 224, seed=4) if preset == "imagenet" else cifar_like
    for severity in range(1, 6):
        factor = corruptions.PRESETS[preset]["pixelate"][severity - 1]
        quality = corruptions.PRESETS[preset]["jpeg_compression"][severity - 1]
        pixelated = corruptions.corrupt(images, "pixelate", severity, preset=preset)
        h, w = images.shape[1:3]
        # the NumPy resampler used where Pillow is missing
        small_h, small_w = int(h * factor), int(w * factor)
        numpy_pixelated = geometry.pil_box_resize(geometry.pil_box_resize(images, small_h, small_w), h, w)
        compressed = corruptions.corrupt(images, "jpeg_compression", severity, preset=preset)
        for image, ours_pixelated, ours_numpy, ours_compressed in zip(images, pixelated, numpy_pixelated, compressed):
            pil = Image.fromarray(image)
            expected = np.asarray(pil.resize((small_w, small_h), Image.BOX).resize((w, h), Image.BOX))
            np.testing.assert_array_equal(ours_pixelated, expected)
            np.testing.assert_array_equal(ours_numpy, expected)
            buffer = io.BytesIO()
            pil.save(buffer, "JPEG", quality=quality)
            np.testing.assert_array_equal(ours_compressed, np.asarray(Image.open(buffer)))


def test_pixelate_equals_pillow_on_odd_sizes():
    for height, width in ((37, 29), (50, 81), (33, 120)):
        images = smooth_images(2, max(height, width), seed=6)[:, :height, :width]
        for factor in (0.6, 0.25):
            small = (int(height * factor), int(width * factor))
            ours = geometry.pil_box_resize(geometry.pil_box_resize(images, *small), height, width)
            ours_with_pillow = digital.pixelate(images, factor, None)  # Pillow shrinks, NumPy enlarges
            for image, pixelated, pixelated_with_pillow in zip(images, ours, ours_with_pillow):
                expected = Image.fromarray(image).resize(small[::-1], Image.BOX).resize((width, height), Image.BOX)
                np.testing.assert_array_equal(pixelated, np.asarray(expected))
                np.testing.assert_array_equal(pixelated_with_pillow, np.asarray(expected))


def test_hsv_corruptions_and_contrast_follow_their_formulas():
    images = smooth_images(1, 8, seed=5)
    images[0, 0, :3] = (90, 90, 90)  # grey pixels: hue 0, so a saturation offset tints them red
    pixels = images.reshape(-1, 3) / 255.0
    for severity, offset in enumerate(corruptions.PRESETS["cifar"]["brightness"], 1):
        hsv = [colorsys.rgb_to_hsv(*p) for p in pixels]
        expected = [colorsys.hsv_to_rgb(h, s, min(v + offset, 1)) for h, s, v in hsv]
        ours = corruptions.corrupt(images, "brightness", severity).reshape(-1, 3)
        assert np.abs(ours - np.floor(np.array(expected) * 255 + 1e-6)).max() <= 1
    for severity, (factor, offset) in enumerate(corruptions.PRESETS["imagenet"]["saturate"], 1):
        hsv = [colorsys.rgb_to_hsv(*p) for p in pixels]
        expected = [colorsys.hsv_to_rgb(h, min(max(s * factor + offset, 0), 1), v) for h, s, v in hsv]
        ours = corruptions.corrupt(images, "saturate", severity, preset="imagenet").reshape(-1, 3)
        assert np.abs(ours - np.floor(np.array(expected) * 255 + 1e-6)).max() <= 1
    for severity, factor in enumerate(corruptions.PRESETS["cifar"]["contrast"], 1):
        scaled = images / 255.0
        means = scaled.mean(axis=(1, 2), keepdims=True)
        expected = np.floor(np.clip((scaled - means) * factor + means, 0, 1) * 255 + 1e-6)
        assert np.abs(corruptions.corrupt(images, "contrast", severity) - expected).max() <= 1


def test_glass_blur_shuffle_equals_the_reference_loop():
    rng = np.random.default_rng(0)
    for delta, h, w, c in ((1, 32, 32, 3), (4, 30, 27, 3), (2, 20, 24, 1)):
        pixels = rng.integers(0, 256, (2, h, w, c), dtype=np.uint8)
        offsets = rng.integers(-delta, delta, size=(2, h - 2 * delta, w - 2 * delta, 2))
        ours = pixels.copy()
        blur.local_shuffle(ours, offsets, delta)
        for n in range(2):
            x = pixels[n]
            for i, row in enumerate(range(h - delta, delta, -1)):
                for j, col in enumerate(range(w - delta, delta, -1)):
                    dx, dy = offsets[n, i, j]
                    # the generators' statement, verbatim: on pixel views it copies the neighbour, it does not swap
                    x[row, col], x[row + dy, col + dx] = x[row + dy, col + dx], x[row, col]
        np.testing.assert_array_equal(ours, pixels)


def test_kernels_of_the_generators():
    for radius, alias in ((0.3, 0.4), (3, 0.1), (10, 0.5)):
        kernel = filters.disk_kernel(radius, alias)
        # beyond radius 8 the disk touches the grid's edge and OpenCV's reflected border adds about 1 %
        assert abs(kernel.sum() - 1) < (0.02 if radius > 8 else 1e-9)
        assert np.allclose(kernel, kernel.T) and np.allclose(kernel, kernel[::-1])
    dx, dy = filters.motion_offsets(6, 1, [0, 90, -45])
    # ImageMagick's one-sided line of 2 * 6 + 1 taps from the pixel itself along the angle
    np.testing.assert_array_equal(dx, [np.arange(13), np.zeros(13), np.ceil(np.arange(13) * np.cos(np.pi / 4) - 0.5)])
    np.testing.assert_array_equal(dy, [np.zeros(13), np.arange(13), -dx[2]])
    impulse = np.zeros((1, 32, 32, 1), np.float32)
    impulse[0, 16, 16] = 1
    # sampling (x + i, y) moves a bright dot to the left: a trail from x - 12 to x
    trail = filters.motion_blur(impulse, 6, 1, [0])[0, 16, :, 0]
    np.testing.assert_allclose(trail[4:17][::-1], filters.motion_taps(6, 1), rtol=1e-6)
    assert np.isclose(filters.motion_blur(impulse, 6, 1, [33])[0].sum(), 1, atol=1e-5)
    edges = np.zeros((1, 9, 9), bool)
    edges[0, 4, 4] = True
    distance = spatter._distance_to(edges)[0]  # OpenCV's 5×5 chamfer steps: 1, 1.4, 2.1969
    assert np.allclose([distance[4, 5], distance[5, 5], distance[5, 6], distance[4, 7]], [1, 1.4, 2.1969, 3])


def test_grey_images_stay_grey_for_colour_effects():
    grey = smooth_images(2, 32, channels=1, seed=6)
    rgb = np.repeat(grey, 3, axis=-1)
    out = corruptions.corrupt(grey, "brightness", 3)
    expected = corruptions.corrupt(rgb, "brightness", 3)[..., :1]  # grey RGB stays grey under a value shift
    assert np.abs(out.astype(int) - expected).max() <= 1


def test_corrupt_dataset_is_seeded_per_element_and_keeps_shapes(cifar_like):
    tf = pytest.importorskip("tensorflow")
    labels = np.arange(4)
    batched = tf.data.Dataset.from_tensor_slices((cifar_like, labels)).batch(2)
    corrupted = corruptions.corrupt_dataset(batched, "gaussian_noise", 2, seed=3)
    assert corrupted.element_spec[0].shape.as_list() == [None, 32, 32, 3]
    first = [(x.numpy(), y.numpy()) for x, y in corrupted]
    second = [x.numpy() for x, _ in corrupted]
    for index, ((images, kept_labels), again) in enumerate(zip(first, second)):
        expected = corruptions.corrupt(cifar_like[2 * index : 2 * index + 2], "gaussian_noise", 2, seed=(3, index))
        np.testing.assert_array_equal(images, expected)
        np.testing.assert_array_equal(again, expected)
        np.testing.assert_array_equal(kept_labels, labels[2 * index : 2 * index + 2])
    single = corruptions.corrupt_dataset(tf.data.Dataset.from_tensor_slices(cifar_like), "fog", 1, num_parallel_calls=2)
    assert single.element_spec.shape.as_list() == [32, 32, 3]
    assert [x.shape for x in single.as_numpy_iterator()] == [(32, 32, 3)] * 4
    with pytest.raises(ValueError, match="Received: severity=9"):
        corruptions.corrupt_dataset(batched, "fog", 9)
    with pytest.raises(ValueError, match="Received: seed='a'"):
        corruptions.corrupt_dataset(batched, "fog", 1, seed="a")
