"""Resource bounds of the papers' distortions: every parameter is checked before anything is allocated.

Each hostile case must raise a `ValueError` naming its parameter, fast and with little memory (traced by
`tracemalloc`, which sees NumPy's allocations): before these checks some of them took 23 GB or never returned.
"""

import time
import tracemalloc

import numpy as np
import pytest

from keras_robust import corruptions as c
from keras_robust.corruptions import distort, list_distortions

IMAGES = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3)).astype(np.uint8)  # four 32 px images
SMALL = np.random.default_rng(1).integers(0, 256, (2, 16, 16, 3)).astype(np.uint8)
INF, NAN = float("inf"), float("nan")
# the parameter each registry level is
LEVEL_NAMES = {"pushpull/gaussian_noise": "variance", "pushpull/contrast": "factor", "deepcorrect/awgn": "sigma",
               "deepcorrect-imagenet/awgn": "sigma", "deepcorrect/gaussian_blur": "sigma",
               "deepcorrect-imagenet/gaussian_blur": "sigma", "deepcorrect/defocus_blur": "radius",
               "deepcorrect/motion_blur": "length", "deepcorrect/camera_shake_blur": "size"}

CASES = [
    # found by the hostile-input sweep
    ("defocus 1e9 (23 GB)", "radius", lambda: distort(IMAGES, "deepcorrect/defocus_blur", 1e9)),
    ("motion 10**9 (12 GB, cv2.error)", "length", lambda: c.motion_line_blur(IMAGES, 10**9)),
    ("gaussian blur 1e7 (no answer)", "sigma", lambda: distort(IMAGES, "deepcorrect/gaussian_blur", 1e7)),
    ("disk 10**6 (MemoryError)", "radius", lambda: c.defocus_disk_blur(IMAGES, radius=10**6)),
    ("shake size 10**6", "size", lambda: c.camera_shake_kernel(10**6)),
    ("shake steps 10**10", "steps", lambda: c.camera_shake_kernel(steps=10**10)),
    ("gaussian blur 1e9", "sigma", lambda: distort(IMAGES, "deepcorrect/gaussian_blur", 1e9)),
    ("imagenet blur 1e9", "sigma", lambda: distort(IMAGES, "deepcorrect-imagenet/gaussian_blur", 1e9)),
    ("awgn inf", "sigma", lambda: distort(IMAGES, "deepcorrect/awgn", INF)),
    ("contrast 1e9", "factor", lambda: distort(IMAGES, "pushpull/contrast", 1e9)),
    # the same kind, every numeric parameter of distortions.py
    ("awgn -inf", "sigma", lambda: c.awgn(IMAGES, -INF)),
    ("awgn above 255", "sigma", lambda: c.awgn(IMAGES, 256)),
    ("awgn seed -1", "seed", lambda: c.awgn(IMAGES, 10, seed=-1)),
    ("variance inf", "variance", lambda: c.gaussian_noise_variance(IMAGES, INF)),
    ("variance above 1", "variance", lambda: c.gaussian_noise_variance(IMAGES, 1.01)),
    ("contrast above 1", "factor", lambda: c.contrast_change(IMAGES, 1.5)),
    ("contrast -0.1", "factor", lambda: c.contrast_change(IMAGES, -0.1)),
    ("contrast nan", "factor", lambda: c.contrast_poisson(IMAGES, NAN)),
    ("photons inf", "photons", lambda: c.contrast_poisson(IMAGES, 0.5, photons=INF)),
    ("photons 1e30", "photons", lambda: c.contrast_poisson(IMAGES, 0.5, photons=1e30)),
    ("photons 0", "photons", lambda: c.contrast_poisson(IMAGES, 0.5, photons=0)),
    ("photons nan", "photons", lambda: c.contrast_poisson(IMAGES, 0.5, photons=NAN)),
    ("contrast seed 1.5", "seed", lambda: c.contrast_poisson(IMAGES, 0.5, seed=1.5)),
    ("taps 1e9", "sigma", lambda: c.deepcorrect_gaussian_taps(1e9)),
    ("taps 1e9 paper_text", "sigma", lambda: c.deepcorrect_gaussian_taps(1e9, kernel="paper_text")),
    ("taps above 256", "sigma", lambda: c.deepcorrect_gaussian_taps(256.5)),
    ("taps inf", "sigma", lambda: c.deepcorrect_gaussian_taps(INF)),
    ("taps nan", "sigma", lambda: c.deepcorrect_gaussian_taps(NAN)),
    ("taps 0", "sigma", lambda: c.deepcorrect_gaussian_taps(0)),
    ("blur just wider than the image", "sigma", lambda: c.deepcorrect_gaussian_blur(IMAGES, 16.5)),
    ("blur mirror 1e9", "sigma", lambda: c.deepcorrect_gaussian_blur(IMAGES, 1e9, border="mirror")),
    ("blur -1", "sigma", lambda: c.deepcorrect_gaussian_blur(IMAGES, -1)),
    ("disk just wider than the image", "radius", lambda: c.defocus_disk_blur(IMAGES, 32.5)),
    ("disk 0", "radius", lambda: c.defocus_disk_blur(IMAGES, 0)),
    ("disk inf", "radius", lambda: c.defocus_disk_blur(IMAGES, INF)),
    ("motion just longer than the image", "length", lambda: c.motion_line_blur(IMAGES, 66, "vertical")),
    ("motion 0", "length", lambda: c.motion_line_blur(IMAGES, 0)),
    ("motion 2.0", "length", lambda: c.motion_line_blur(IMAGES, 2.0)),
    ("shake size 1025", "size", lambda: c.camera_shake_kernel(1025)),
    ("shake size 2", "size", lambda: c.camera_shake_kernel(2)),
    ("shake steps 0", "steps", lambda: c.camera_shake_kernel(steps=0)),
    ("shake steps 100001", "steps", lambda: c.camera_shake_kernel(steps=100_001)),
    ("shake seed -1", "seed", lambda: c.camera_shake_kernel(seed=-1)),
    ("shake blur size 10**6", "size", lambda: c.camera_shake_blur(IMAGES, size=10**6)),
    ("shake blur size wider than the image", "size", lambda: c.camera_shake_blur(IMAGES, size=66)),
    ("shake blur kernel wider than the image", "kernel", lambda: c.camera_shake_blur(IMAGES, np.ones((66, 1)))),
    ("shake blur kernel nan", "kernel", lambda: c.camera_shake_blur(IMAGES, np.full((3, 3), NAN))),
    ("shake blur kernel 1-D", "kernel", lambda: c.camera_shake_blur(IMAGES, np.ones(3))),
] + [
    # every registry distortion at the hostile levels (none is a valid level anywhere)
    (f"{name} {level}", LEVEL_NAMES.get(name, "severity"), lambda name=name, level=level: distort(IMAGES, name, level))
    for name in list_distortions() for level in (1e9, -1, INF, NAN)
]


@pytest.mark.parametrize("name, case", [(name, case) for _, name, case in CASES], ids=[case[0] for case in CASES])
def test_hostile_parameters_are_refused_fast_and_small(name, case):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=f"^`{name}` must be .*Received: "):
            case()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 2
    assert peak < 50 * 2**20


def test_messages_name_the_value_and_the_range():
    with pytest.raises(ValueError) as error:
        distort(IMAGES, "deepcorrect/defocus_blur", 1e9)
    assert str(error.value) == ("`radius` must be a finite number in (0, 32] for images of 32×32 pixels. "
                                "Received: radius=1000000000.0")
    with pytest.raises(ValueError, match=r"`sigma` must be a finite number in \(0, 16\] for images of 32×32 pixels"):
        distort(IMAGES, "deepcorrect/gaussian_blur", 1e7)
    with pytest.raises(ValueError, match=r"`length` must be an integer in \[1, 65\] for images of 32×32 pixels. "
                                         r"Received: length=1000000000$"):
        c.motion_line_blur(IMAGES, 10**9)
    with pytest.raises(ValueError, match=r"`sigma` must be a finite number in \[0, 255\]. Received: sigma=inf$"):
        distort(IMAGES, "deepcorrect/awgn", INF)
    with pytest.raises(ValueError, match=r"`factor` must be a finite number in \[0, 1\]. "
                                         r"Received: factor=1000000000\.0$"):
        distort(IMAGES, "pushpull/contrast", 1e9)
    with pytest.raises(ValueError, match=r"`steps` must be an integer in \[1, 100000\]. Received: steps=10000000000$"):
        c.camera_shake_kernel(steps=10**10)


def check(out, shape=SMALL.shape):
    assert out.shape == shape and np.isfinite(out).all()


def test_the_extremes_of_each_range_still_work():
    tiny = 1e-300  # σ² underflows: a single tap of weight 1, not NaN
    for sigma in (0, 255):
        check(c.awgn(SMALL, sigma))
        check(distort(SMALL, "deepcorrect/awgn", sigma, clip=True))
    for variance in (0, 1):
        check(c.gaussian_noise_variance(SMALL, variance))
    for factor in (0, 1):
        check(c.contrast_change(SMALL, factor))
        check(distort(SMALL, "pushpull/contrast", factor))
    np.testing.assert_array_equal(c.contrast_change(SMALL, 1), SMALL)
    assert (c.contrast_change(SMALL, 0) == 128).all()
    for photons in (tiny, 10**9):
        check(c.contrast_poisson(SMALL, 0.5, photons=photons))
    for kernel in ("authors", "paper_text"):
        assert c.deepcorrect_gaussian_taps(256, kernel=kernel).size == {"authors": 1025, "paper_text": 1024}[kernel]
        np.testing.assert_array_equal(c.deepcorrect_gaussian_taps(tiny, kernel=kernel), [1.0])
        for border in ("zero", "mirror", "edge"):
            for sigma in (tiny, 8):  # 8 = 16 / 2: 33 taps, the widest kernel a 16-pixel image can use
                check(c.deepcorrect_gaussian_blur(SMALL, sigma, kernel=kernel, border=border))
    np.testing.assert_array_equal(c.deepcorrect_gaussian_blur(SMALL, tiny), SMALL)
    for radius in (tiny, 16):
        check(c.defocus_disk_blur(SMALL, radius))
        check(distort(SMALL, "deepcorrect/defocus_blur", radius))
    for length in (1, 33):
        for direction in ("horizontal", "vertical"):
            check(c.motion_line_blur(SMALL, length, direction))
    check(distort(SMALL, "deepcorrect/motion_blur", 33))
    for size, steps in ((3, 1), (1024, 100_000)):
        kernel = c.camera_shake_kernel(size, steps=steps, seed=2)
        assert kernel.shape == (size, size) and np.isclose(kernel.sum(), 1)
    for size in (3, 33):
        check(c.camera_shake_blur(SMALL, size=size, seed=1))
        check(distort(SMALL, "deepcorrect/camera_shake_blur", size, seed=1))
    check(c.camera_shake_blur(SMALL, np.ones((33, 33), np.float32)))
    # on a large image the image-free limits bind: σ 256 (1025 taps), not 300
    large = np.zeros((1, 600, 8, 1), np.uint8)
    with pytest.raises(ValueError, match=r"`sigma` must be a finite number in \(0, 256\] for images of 600×8 pixels"):
        c.deepcorrect_gaussian_blur(large, 300)
