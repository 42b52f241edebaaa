"""The distortion registry and the distortions of the push–pull and DeepCorrect papers."""

import doctest

import numpy as np
import pytest

from keras_robust import corruptions
from keras_robust.corruptions import distort, get_distortion, list_distortions

FLOAT_ENTRIES = {  # the authors' float arithmetic: unrounded, the noises unclipped
    "pushpull/gaussian_noise", "deepcorrect/gaussian_blur", "deepcorrect/awgn",
    "deepcorrect-imagenet/gaussian_blur", "deepcorrect-imagenet/awgn",
}
RANDOM_ENTRIES = ("cifar/gaussian_noise", "imagenet/shot_noise", "pushpull/gaussian_noise", "pushpull/contrast",
                  "deepcorrect/awgn", "deepcorrect-imagenet/awgn", "deepcorrect/camera_shake_blur")


def textured(n=2, side=32, channels=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, side, side, channels)).astype(np.uint8)


def test_registry_lists_every_family_and_entry():
    families = {name.split("/")[0] for name in list_distortions()}
    assert families == {"cifar", "imagenet", "pushpull", "deepcorrect", "deepcorrect-imagenet"}
    for preset in ("cifar", "imagenet"):
        assert list_distortions(preset) == tuple(f"{preset}/{name}" for name in corruptions.names())
    assert set(list_distortions("deepcorrect")) == {f"deepcorrect/{name}" for name in (
        "gaussian_blur", "awgn", "defocus_blur", "motion_blur", "camera_shake_blur")}
    assert list_distortions("deepcorrect-imagenet") == ("deepcorrect-imagenet/gaussian_blur", "deepcorrect-imagenet/awgn")
    assert get_distortion("cifar/fog").levels == (1, 2, 3, 4, 5) and get_distortion("cifar/fog").level_name == "severity"
    # the authors' level tables (cifardata_gen.py, Imagenet_datagen.py)
    assert get_distortion("deepcorrect/gaussian_blur").levels == (0.5, 1, 1.5, 2, 2.5, 3)
    assert get_distortion("deepcorrect/awgn").levels == (5, 10, 15, 20, 25, 30)
    assert get_distortion("deepcorrect-imagenet/gaussian_blur").levels == (1, 2, 3, 4, 5, 6)
    assert get_distortion("deepcorrect-imagenet/awgn").levels == (10, 20, 40, 60, 80, 100)
    assert get_distortion("pushpull/contrast").level_name == "contrast"
    assert all(get_distortion(name).source and get_distortion(name).description for name in list_distortions())
    with pytest.raises(ValueError, match="Received: family='blur'; accepted: None, 'cifar'"):
        list_distortions("blur")


def test_every_entry_applies_at_every_level_with_its_shape_and_dtype():
    images = textured()
    for name in list_distortions():
        distortion = get_distortion(name)
        for level in distortion.levels:
            out = distortion.apply(images, level, seed=1)
            assert out.shape == images.shape, (name, level)
            assert out.dtype == (np.float32 if name in FLOAT_ENTRIES else np.uint8), (name, level)
    # the 19 corruptions are `corrupt` itself
    np.testing.assert_array_equal(distort(images, "imagenet/fog", 2, seed=4),
                                  corruptions.corrupt(images, "fog", 2, preset="imagenet", seed=4))


def test_one_seeding_rule():
    images = textured(seed=3)
    for name in RANDOM_ENTRIES:
        level = get_distortion(name).levels[-1]
        first = distort(images, name, level, seed=5)
        np.testing.assert_array_equal(first, distort(images, name, level, seed=5))
        np.testing.assert_array_equal(distort(images, name, level), distort(images, name, level, seed=0))
        assert not np.array_equal(first, distort(images, name, level, seed=6)), name
    # a batch's noise does not depend on what else is in the call
    np.testing.assert_array_equal(distort(images[:1], "deepcorrect/awgn", 10, seed=2),
                                  distort(images[:1].copy(), "deepcorrect/awgn", 10, seed=2))
    for seed in (None, -1, True, 1.5):
        with pytest.raises(ValueError, match="seed"):
            distort(images, "deepcorrect/awgn", 10, seed=seed)


def authors_blur(image, sigma):
    """The authors' cv2.GaussianBlur(img, (4σ+1, 4σ+1), σ, None, σ, cv2.BORDER_CONSTANT), written out in numpy."""
    size = int(4 * sigma + 1)
    offsets = np.arange(size) - (size - 1) / 2
    taps = np.exp(-(offsets**2) / (2 * sigma**2))
    kernel = np.outer(taps, taps) / taps.sum() ** 2
    half = size // 2
    padded = np.pad(image.astype(np.float64), ((half, half), (half, half), (0, 0)))  # zeros outside
    out = np.zeros(image.shape)
    for dy in range(size):
        for dx in range(size):
            out += kernel[dy, dx] * padded[dy:dy + image.shape[0], dx:dx + image.shape[1]]
    return out


def test_deepcorrect_blur_is_the_authors_kernel_with_a_zero_border():
    assert corruptions.deepcorrect_gaussian_taps(1).shape == (5,)
    # blur_win of cifardata_gen.py for σ 0.5..3
    assert [len(corruptions.deepcorrect_gaussian_taps(s)) for s in (0.5, 1, 1.5, 2, 2.5, 3)] == [3, 5, 7, 9, 11, 13]
    images = textured(n=1, side=12)
    for sigma in (0.5, 1, 2):
        np.testing.assert_allclose(distort(images, "deepcorrect/gaussian_blur", sigma)[0],
                                   authors_blur(images[0], sigma), atol=1e-3)
    white = np.full((1, 16, 16, 1), 255, np.uint8)
    blurred = distort(white, "deepcorrect/gaussian_blur", 1.0)[0, ..., 0]
    taps = np.exp(-np.arange(-2, 3) ** 2 / 2) / np.exp(-np.arange(-2, 3) ** 2 / 2).sum()
    assert blurred[8, 8] == pytest.approx(255, abs=1e-3)  # 2 pixels from every edge: untouched
    assert blurred[0, 0] == pytest.approx(255 * taps[2:].sum() ** 2, rel=1e-5)  # the zero border darkens corners
    # the package's earlier kernel stays an explicit option: round(4σ) taps, edge border
    assert corruptions.deepcorrect_gaussian_taps(1, kernel="paper_text").shape == (4,)
    old = distort(white, "deepcorrect/gaussian_blur", 1.0, kernel="paper_text", border="edge")
    np.testing.assert_allclose(old, 255, atol=1e-3)
    # on ImageNet crops the authors' zero border fell outside the crop: mirrored instead
    np.testing.assert_allclose(distort(white, "deepcorrect-imagenet/gaussian_blur", 2), 255, atol=1e-3)
    with pytest.raises(ValueError, match="Received: kernel='box'"):
        distort(white, "deepcorrect/gaussian_blur", 1.0, kernel="box")


def test_noise_is_unclipped_by_default_and_clipped_on_request():
    white = np.full((2, 32, 32, 3), 255, np.uint8)
    for name in ("deepcorrect/awgn", "deepcorrect-imagenet/awgn", "pushpull/gaussian_noise"):
        level = get_distortion(name).levels[-1]
        raw = distort(white, name, level)
        assert raw.dtype == np.float32 and raw.max() > 255 and not np.array_equal(raw, np.round(raw))
        clipped = distort(white, name, level, clip=True)
        assert clipped.dtype == np.uint8 and clipped.max() == 255
        np.testing.assert_array_equal(clipped, np.clip(np.round(raw), 0, 255))
        forced = get_distortion(name).with_options(clip=True)
        np.testing.assert_array_equal(forced.apply(white, level), clipped)
    flat = np.full((4, 64, 64, 1), 128, np.uint8)
    for sigma in (10, 20):
        noisy = corruptions.awgn(flat, sigma, seed=0).astype(np.float64)
        assert abs(noisy.std() - sigma) < 0.03 * sigma and abs(noisy.mean() - 128) < 0.5
    noisy = corruptions.gaussian_noise_variance(flat, 0.01, seed=0).astype(np.float64) / 255
    assert abs(noisy.var() - 0.01) < 0.0005
    with pytest.raises(ValueError, match="Received: sigma=-1"):
        corruptions.awgn(flat, -1)


def test_unknown_names_and_options_say_what_is_accepted():
    images = textured()
    with pytest.raises(ValueError, match="Received: name='awgn'. Did you mean 'deepcorrect/awgn'") as error:
        distort(images, "awgn", 10)
    assert "Accepted: cifar/gaussian_noise" in str(error.value) and "pushpull/contrast" in str(error.value)
    with pytest.raises(ValueError, match="Did you mean 'cifar/fog'"):
        get_distortion("cifar/fogg")
    with pytest.raises(ValueError, match="Unknown option.*'cifar/fog'.*accepted: none"):
        distort(images, "cifar/fog", 1, clip=True)
    with pytest.raises(ValueError, match="accepted: clip"):
        get_distortion("deepcorrect/awgn").with_options(clipping=True)


def test_vb_blurs():
    impulse = np.zeros((1, 33, 33, 1), np.uint8)
    impulse[0, 16, 16] = 250
    line = corruptions.motion_line_blur(impulse, 5)[0, ..., 0]
    assert np.count_nonzero(line) == 5 and np.count_nonzero(line[16]) == 5 and (line[line > 0] == 50).all()
    vertical = distort(impulse, "deepcorrect/motion_blur", 5, direction="vertical")[0, ..., 0]
    np.testing.assert_array_equal(vertical, line.T)
    disk = distort(impulse, "deepcorrect/defocus_blur", 3)[0, ..., 0]
    assert np.count_nonzero(disk) == 29  # lattice points within radius 3
    shake = corruptions.camera_shake_kernel(17, seed=1)
    assert shake.shape == (17, 17) and np.isclose(shake.sum(), 1) and np.count_nonzero(shake) > 17
    np.testing.assert_array_equal(shake, corruptions.camera_shake_kernel(17, seed=1))
    assert not np.array_equal(shake, corruptions.camera_shake_kernel(17, seed=2))
    np.testing.assert_array_equal(distort(impulse, "deepcorrect/camera_shake_blur", 17, seed=1),
                                  corruptions.camera_shake_blur(impulse, shake))


def test_contrast_then_poisson():
    images = textured(n=2, side=28, channels=1, seed=7)
    for factor in (0.5, 0.3, 0.2):
        expected = np.round(((images / 255 - 0.5) * factor + 0.5) * 255)
        np.testing.assert_array_equal(corruptions.contrast_change(images, factor), expected)
    flat = np.full((8, 28, 28, 1), 255, np.uint8)
    noisy = distort(flat, "pushpull/contrast", 0.5).astype(np.float64)
    # I_C = 0.75: Poisson(0.75 · 255) / 255 has mean 0.75 and variance 0.75 / 255, in grey levels 191 and 191
    assert abs(noisy.mean() - 191.25) < 1 and abs(noisy.var() - 191.25) < 0.1 * 191.25


def test_docstring_examples_run():
    from keras_robust.corruptions import distortions, registry

    for module in (registry, distortions):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_a_short_name_means_one_entry_of_the_family_named():
    from keras_robust.deepcorrect.distortions import FAMILY as DEEPCORRECT_FAMILY, resolve
    from keras_robust.transfer.distortions import FAMILY as TRANSFER_FAMILY, resolve_distortion

    assert get_distortion("awgn", family="deepcorrect") is get_distortion("deepcorrect/awgn")
    assert get_distortion("awgn", family="deepcorrect-imagenet") is get_distortion("deepcorrect-imagenet/awgn")
    assert get_distortion("cifar/fog", family="deepcorrect") is get_distortion("cifar/fog")  # full names as they are
    assert resolve("awgn") is get_distortion("awgn", family=DEEPCORRECT_FAMILY)
    assert resolve_distortion("awgn") is get_distortion("awgn", family=TRANSFER_FAMILY)
    with pytest.raises(ValueError, match="family 'deepcorrect'. Received: name='fog'; accepted: gaussian_blur, awgn"):
        get_distortion("fog", family="deepcorrect")
    with pytest.raises(ValueError, match="Received: family='cifar10'"):
        get_distortion("fog", family="cifar10")
