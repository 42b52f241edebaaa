"""Large images in bounded memory: `corrupt` runs one large image in bands of rows with the filters' rows
of context, giving the bytes of the whole image at once; the corruptions that need the whole image are refused above
`MAX_WHOLE_IMAGE_PIXELS`, before any work."""

import tracemalloc

import numpy as np
import pytest

from keras_robust.corruptions import corrupt, filters, suite

BANDED = [name for name, corruption in suite._CORRUPTIONS.items() if corruption.halo is not None] + ["glass_blur"]
CAPPED = [name for name, corruption in suite._CORRUPTIONS.items() if corruption.capped]


def _image(height, width, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    smooth = filters.gaussian_blur(rng.random((1, height, width, channels), dtype=np.float32), 2.0)
    return np.clip((smooth - smooth.min()) / np.ptp(smooth) * 255, 0, 255).astype(np.uint8)


def _peak(function):
    """Peak bytes NumPy allocates while `function` runs (tracemalloc sees NumPy's buffers)."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_banded_and_capped_lists_cover_every_corruption_once():
    whole = [name for name, corruption in suite._CORRUPTIONS.items() if corruption.halo is None]
    assert sorted(BANDED) == sorted(set(BANDED)) and not set(BANDED) & set(CAPPED)
    assert set(whole) - set(CAPPED) == {"glass_blur", "contrast", "pixelate", "jpeg_compression"}


@pytest.mark.parametrize("name", BANDED)
@pytest.mark.parametrize("preset,severity", [("cifar", 1), ("imagenet", 5)])
def test_bands_of_rows_give_the_bytes_of_the_whole_image(name, preset, severity, monkeypatch):
    image = _image(61, 47)
    whole = corrupt(image, name, severity, preset=preset, seed=4)
    monkeypatch.setattr(filters, "BAND_VALUES", 5 * 47 * 3)  # bands of 5 rows: 13 bands, the last of one row
    assert filters.band_rows(image) == 5
    np.testing.assert_array_equal(corrupt(image, name, severity, preset=preset, seed=4), whole)


@pytest.mark.parametrize("name", ["brightness", "saturate"])
def test_grey_images_in_bands_give_the_bytes_of_the_whole_image(name, monkeypatch):
    image = _image(40, 33, channels=1)
    whole = corrupt(image, name, 4)
    monkeypatch.setattr(filters, "BAND_VALUES", 3 * 33)
    np.testing.assert_array_equal(corrupt(image, name, 4), whole)


def test_several_images_are_never_split_into_bands(monkeypatch):
    monkeypatch.setattr(filters, "BAND_VALUES", 1)
    assert filters.band_rows(np.zeros((2, 50, 40, 3), np.uint8)) == 50
    assert filters.band_rows(np.zeros((1, 50, 40, 3), np.uint8)) == 1


# 2000 × 2000 × 3: 12 MB, six bands of the default 2**21 values; the 4000 × 4000 figure is measured by
# benchmarks/corruption_memory.py (too slow for a test on two cores)
LARGE = (2000, 2000)


@pytest.fixture(scope="module")
def large_image():
    return np.random.default_rng(1).integers(0, 256, (1, *LARGE, 3), dtype=np.uint8)


@pytest.mark.parametrize("name", ["glass_blur", "gaussian_noise", "shot_noise", "defocus_blur", "gaussian_blur",
                                  "saturate"])
def test_one_large_image_takes_under_ten_times_its_size(name, large_image):
    peak = _peak(lambda: corrupt(large_image, name, 5, preset="imagenet"))
    assert peak < 10 * large_image.nbytes, f"{name}: peak {peak / large_image.nbytes:.1f} × the image"


def test_the_memory_measure_sees_a_whole_image_run(large_image, monkeypatch):
    # the bound above fails without bands: the same blur on the whole image at once
    monkeypatch.setattr(filters, "BAND_VALUES", 1 << 40)
    assert _peak(lambda: corrupt(large_image, "gaussian_blur", 5, preset="imagenet")) > 10 * large_image.nbytes


@pytest.mark.parametrize("name", CAPPED)
def test_whole_image_corruptions_refuse_large_images_before_any_work(name):
    side = 1 << 10
    huge = np.broadcast_to(np.zeros((1, 1, 1, 3), np.uint8), (1, side + 1, side, 3))  # no memory behind it
    peak = _peak(lambda: pytest.raises(ValueError, corrupt, huge, name, 1))
    with pytest.raises(ValueError) as caught:
        corrupt(huge, name, 1)
    message = str(caught.value)
    assert f"Received: shape=(1, {side + 1}, {side}, 3) ({(side + 1) * side} pixels per image)" in message
    assert f"H × W <= {suite.MAX_WHOLE_IMAGE_PIXELS}" in message and name in message
    assert peak < 1 << 20
