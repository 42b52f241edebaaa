"""The distortions of the push–pull paper (Figs. 4–5) and of DeepCorrect (Sections III-A and V-B).

All take uint8 batches ``(N, H, W, C)`` on the 0..255 scale. The noises and DeepCorrect's Gaussian blur follow the
authors' code: they return float32 values on the 0..255 scale, not rounded and (for the noises) not clipped, unless
``clip=True`` is asked; the other distortions return uint8, rounded to the nearest level. Reach them by name through
`keras_robust.corruptions.distort`, which holds their level tables.
"""

import numpy as np
from scipy import ndimage

from keras_robust.corruptions import filters
from keras_robust.corruptions.suite import _check_images
from keras_robust.pixels import to_uint8
from keras_robust.validation import check_choice, check_int, check_number

BLUR_KERNELS = ("authors", "paper_text")
BLUR_BORDERS = {"zero": "constant", "mirror": "mirror", "edge": "nearest"}
# Largest parameters of the kernels built without images (each kernel stays under 10 MB):
MAX_SIGMA = 256  # Gaussian σb: at most 1025 taps, the widest kernel an image of 512 pixels can use
MAX_SHAKE_SIZE = 1024  # camera-shake kernel side: an 8 MB float64 kernel
MAX_SHAKE_STEPS = 100_000  # camera-shake trajectory samples: a 1.6 MB path, under a second
# Largest noise parameters:
MAX_SIGMA_NOISE = 255  # noise σ in grey levels: as wide as the whole 0..255 range (variance 1 on [0, 1])
MAX_PHOTONS = 10**9  # above it the shot noise is under 0.01 grey level; NumPy's Poisson refuses λ > 9.2e18


def gaussian_noise_variance(images, variance, *, seed=0, clip=False):
    """Adds Gaussian noise of variance ``variance`` to the images scaled to [0, 1] (push–pull paper, Fig. 4).

    As the authors' noise transform (``clip=False`` in their CIFAR noise code), the noise is added to float values
    and nothing is clipped: the result may leave 0..255.

    Args:
        images: uint8 array ``(N, H, W, C)``.
        variance: noise variance σ² on the [0, 1] scale, a finite number in [0, 1] (the paper's levels: 0.01 to
            0.3; 1 is noise of σ 255 grey levels, as wide as the whole intensity range).
        seed: integer seed of the noise, ≥ 0.
        clip: ``True`` rounds and clips to uint8 0..255 (the package's form before it followed the authors).

    Returns:
        float32 array on the 0..255 scale, or uint8 with ``clip=True``.

    Example:
        >>> import numpy as np
        >>> from keras_robust.corruptions import gaussian_noise_variance
        >>> bool(gaussian_noise_variance(np.zeros((1, 28, 28, 1), np.uint8), 0.1).min() < 0)
        True
    """
    check_number("variance", variance, minimum=0, maximum=1)
    return awgn(images, 255 * np.sqrt(variance), seed=seed, clip=clip)


def awgn(images, sigma, *, seed=0, clip=False):
    """Additive white Gaussian noise of standard deviation ``sigma`` on the 0..255 scale (DeepCorrect, σn).

    The authors add float noise to the float images without clipping (``cifardata_gen.py``,
    ``Imagenet_datagen.py``); so does this function unless ``clip=True``.

    Args:
        images: uint8 array ``(N, H, W, C)``.
        sigma: standard deviation in grey levels, a finite number in [0, 255] (the authors' levels: 5 to 100; noise
            of σ 255 is as wide as the whole intensity range and drowns any image).
        seed: integer seed of the noise, ≥ 0.
        clip: ``True`` rounds and clips to uint8 0..255.

    Returns:
        float32 array on the 0..255 scale, or uint8 with ``clip=True``.

    Example:
        >>> import numpy as np
        >>> from keras_robust.corruptions import awgn
        >>> bool(awgn(np.full((1, 32, 32, 3), 128, np.uint8), 10, seed=0).std() > 5)
        True
    """
    images = _check_images(images)
    check_number("sigma", sigma, minimum=0, maximum=MAX_SIGMA_NOISE)
    check_int("seed", seed, minimum=0)
    noisy = images + np.random.default_rng(seed).standard_normal(images.shape, np.float32) * np.float32(sigma)
    return to_uint8(noisy) if clip else noisy.astype(np.float32)


def contrast_change(images, factor):
    """``I_C = (I − 0.5)·C + 0.5`` on the images scaled to [0, 1] (push–pull paper, Fig. 5), without noise.

    Args:
        images: uint8 array ``(N, H, W, C)``.
        factor: contrast reduction factor ``C``, a finite number in [0, 1]: 1 keeps the image, 0 makes it flat
            grey (the paper's levels: 0.5 down to 0.2; a factor above 1 would raise the contrast instead).

    Returns:
        uint8 array.

    Example:
        >>> import numpy as np
        >>> from keras_robust.corruptions import contrast_change
        >>> int(contrast_change(np.full((1, 8, 8, 1), 255, np.uint8), 0.5)[0, 0, 0, 0])
        191
    """
    images = _check_images(images)
    check_number("factor", factor, minimum=0, maximum=1)
    return to_uint8(((images / 255.0 - 0.5) * factor + 0.5) * 255)


def contrast_poisson(images, factor, *, photons=255.0, seed=0):
    """Contrast change followed by Poisson (shot) noise (push–pull paper, Fig. 5).

    Args:
        images: uint8 array ``(N, H, W, C)``.
        factor: contrast reduction factor ``C`` in [0, 1], see `contrast_change` (the paper uses 0.5 down to 0.2).
        photons: expected photon count of a white pixel: each value becomes ``Poisson(I_C · photons) / photons``.
            The paper does not state it; 255 makes the count the grey level. A finite number in (0, 1e9]: above
            1e9 the noise is under 0.01 grey level.
        seed: integer seed of the noise, ≥ 0.

    Returns:
        uint8 array.

    Example:
        >>> import numpy as np
        >>> from keras_robust.corruptions import contrast_poisson
        >>> contrast_poisson(np.full((1, 8, 8, 1), 255, np.uint8), 0.5).dtype
        dtype('uint8')
    """
    check_number("photons", photons, minimum=0, maximum=MAX_PHOTONS, exclusive_minimum=True)
    check_int("seed", seed, minimum=0)
    changed = contrast_change(images, factor) / 255.0
    rng = np.random.default_rng(seed)
    return to_uint8(rng.poisson(changed * photons) / photons * 255)


def deepcorrect_gaussian_taps(sigma, *, kernel="authors"):
    """The 1-D taps of DeepCorrect's separable Gaussian blur kernel, normalized to sum 1.

    Args:
        sigma: standard deviation σb in pixels, a finite number in (0, 256] (at most 1025 taps; the authors'
            levels: 0.5 to 6).
        kernel: ``"authors"`` (default): ``4σ + 1`` taps, the window of the authors' ``cv2.GaussianBlur`` calls
            (``blur_win = [3, 5, ..., 13]`` for σ 0.5..3 in ``cifardata_gen.py``, ``4 * σ + 1`` in
            ``Imagenet_datagen.py``; other σ: the nearest odd count). ``"paper_text"``: ``round(4σ)`` taps, the
            reading of the paper's "the size of the blur kernel is set to 4 times the value of σb" that the package
            used before checking the authors' code (an even window: σ=0.5 is a 2-tap box); kept to reproduce
            earlier results.

    Returns:
        float64 array of taps, ``exp(−x²/2σ²)`` at integer offsets ``x`` from the window's centre, as
        ``cv2.getGaussianKernel``.

    Example:
        >>> from keras_robust.corruptions import deepcorrect_gaussian_taps
        >>> deepcorrect_gaussian_taps(1).shape
        (5,)
    """
    check_number("sigma", sigma, minimum=0, maximum=MAX_SIGMA, exclusive_minimum=True)
    check_choice("kernel", kernel, BLUR_KERNELS)
    side = 2 * int(np.floor(2 * sigma + 0.5)) + 1 if kernel == "authors" else max(int(round(4 * sigma)), 1)
    if side == 1:  # σ < 0.25 (paper_text: 0.375): one tap of weight 1; the formula gives NaN once σ² underflows
        return np.ones(1)
    grid = np.arange(side) - (side - 1) / 2
    taps = np.exp(-(grid**2) / (2.0 * sigma**2))
    return taps / taps.sum()


def deepcorrect_gaussian_blur(images, sigma, *, kernel="authors", border="zero"):
    """DeepCorrect's Gaussian blur (σb), as the authors' ``cv2.GaussianBlur(..., cv2.BORDER_CONSTANT)``.

    Args:
        images: uint8 array ``(N, H, W, C)``.
        sigma: standard deviation σb in pixels, a finite number in (0, min(max(H, W) / 2, 256)]: refused beyond,
            where the 4σ+1 taps would outgrow ``2·max(H, W) + 1``, the widest kernel the image can use (capping
            would not be exact with the mirror and edge borders).
        kernel: ``"authors"`` (4σ+1 taps) or ``"paper_text"`` (round(4σ) taps), see
            `deepcorrect_gaussian_taps`.
        border: ``"zero"`` (the authors' constant border, which darkens the image's edge on the CIFAR images they
            blurred whole), ``"mirror"`` (OpenCV's default border) or ``"edge"`` (the package's earlier border).

    Returns:
        float32 array on the 0..255 scale, not rounded (the authors blurred float images).

    Example:
        >>> import numpy as np
        >>> from keras_robust.corruptions import deepcorrect_gaussian_blur
        >>> out = deepcorrect_gaussian_blur(np.full((1, 32, 32, 3), 90, np.uint8), 1)
        >>> float(out[0, 16, 16, 0]), bool(out[0, 0, 0, 0] < 90)
        (90.0, True)
    """
    images = _check_images(images)
    check_choice("border", border, BLUR_BORDERS)
    _check_kernel("sigma", sigma, images, taps_per_unit=4, limit=MAX_SIGMA)
    taps = deepcorrect_gaussian_taps(sigma, kernel=kernel)
    out = images.astype(np.float32)
    for axis in (1, 2):
        out = ndimage.correlate1d(out, taps, axis=axis, mode=BLUR_BORDERS[border], cval=0.0)
    return out


def defocus_disk_blur(images, radius):
    """Defocus blur with a spatially uniform disk of ``radius`` pixels (DeepCorrect V-B, after Vasiljevic et al.).

    Args:
        images: uint8 array ``(N, H, W, C)``.
        radius: disk radius in pixels, a finite number in (0, max(H, W)]: refused beyond, where the disk would be
            wider than ``2·max(H, W) + 1``, the widest kernel the image can use.

    Returns:
        uint8 array.

    Example:
        >>> import numpy as np
        >>> from keras_robust.corruptions import defocus_disk_blur
        >>> defocus_disk_blur(np.zeros((1, 16, 16, 1), np.uint8), 2).shape
        (1, 16, 16, 1)
    """
    images = _check_images(images)
    _check_kernel("radius", radius, images, taps_per_unit=2)
    half = int(np.ceil(radius))
    grid = np.arange(-half, half + 1)
    disk = (grid[:, None] ** 2 + grid[None, :] ** 2 <= radius**2).astype(np.float64)
    return _blur(images, disk / disk.sum())


def motion_line_blur(images, length, direction="horizontal"):
    """Uniform linear motion: a box kernel one pixel wide and ``length`` long (DeepCorrect V-B).

    Args:
        images: uint8 array ``(N, H, W, C)``.
        length: kernel length in pixels, an integer in [1, 2·max(H, W) + 1]: refused beyond, the widest kernel the
            image can use.
        direction: ``"horizontal"`` or ``"vertical"``.

    Returns:
        uint8 array.

    Example:
        >>> import numpy as np
        >>> from keras_robust.corruptions import motion_line_blur
        >>> motion_line_blur(np.zeros((1, 16, 16, 1), np.uint8), 5, "vertical").dtype
        dtype('uint8')
    """
    images = _check_images(images)
    _check_kernel("length", length, images)
    check_choice("direction", direction, ("horizontal", "vertical"))
    kernel = np.full((1, length), 1.0 / length)
    return _blur(images, kernel if direction == "horizontal" else kernel.T)


def camera_shake_kernel(size=17, *, steps=200, seed=0):
    """A random camera-shake blur kernel: a jittery 2-D trajectory rasterized into ``size × size`` cells.

    The trajectory has inertia (velocity with momentum), random accelerations and occasional jerks, the
    construction of Boracchi & Foi's camera-shake model that random kernel generators for DeepCorrect's
    ``Cam.Blur`` follow; it is scaled to fit the kernel and splatted bilinearly, then normalized to sum 1.

    Args:
        size: kernel side in pixels, an integer in [3, 1024] (an 8 MB kernel at most).
        steps: trajectory samples, an integer in [1, 100000] (a second's work at most).
        seed: integer seed, ≥ 0 (DeepCorrect averages over 100 random kernels: seeds 0..99).

    Returns:
        float64 array ``(size, size)``.

    Example:
        >>> from keras_robust.corruptions import camera_shake_kernel
        >>> round(float(camera_shake_kernel(9, seed=1).sum()), 6)
        1.0
    """
    check_int("size", size, minimum=3, maximum=MAX_SHAKE_SIZE)
    check_int("steps", steps, minimum=1, maximum=MAX_SHAKE_STEPS)
    check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    velocity = rng.standard_normal(2)
    velocity /= np.linalg.norm(velocity)
    position = np.zeros(2)
    path = np.empty((steps, 2))
    for step in range(steps):
        jerk = rng.standard_normal(2) * (2.0 if rng.random() < 0.05 else 0.2)
        velocity = 0.9 * velocity + 0.1 * rng.standard_normal(2) + jerk * 0.1
        position = position + velocity / steps * size
        path[step] = position
    path -= path.mean(axis=0)
    extent = np.abs(path).max()
    path *= (size - 1) / 2 / max(extent, 1e-12)
    path += (size - 1) / 2
    kernel = np.zeros((size, size))
    low = np.clip(np.floor(path).astype(int), 0, size - 2)
    frac = path - low
    for dy, wy in ((0, 1 - frac[:, 1]), (1, frac[:, 1])):
        for dx, wx in ((0, 1 - frac[:, 0]), (1, frac[:, 0])):
            np.add.at(kernel, (low[:, 1] + dy, low[:, 0] + dx), wy * wx)
    return kernel / kernel.sum()


def camera_shake_blur(images, kernel=None, *, size=17, seed=0):
    """Blurs with a camera-shake kernel: ``kernel``, or a new one from `camera_shake_kernel`.

    Args:
        images: uint8 array ``(N, H, W, C)``.
        kernel: a 2-D array of finite weights, sides at most ``2·max(H, W) + 1``, or ``None``.
        size: side of the new kernel, an integer in [3, min(2·max(H, W) + 1, 1024)]: refused beyond, the widest
            kernel the image can use.
        seed: integer seed of the new kernel, ≥ 0.

    Returns:
        uint8 array.

    Example:
        >>> import numpy as np
        >>> from keras_robust.corruptions import camera_shake_blur
        >>> camera_shake_blur(np.zeros((1, 16, 16, 1), np.uint8), size=5, seed=3).shape
        (1, 16, 16, 1)
    """
    images = _check_images(images)
    if kernel is None:
        _check_kernel("size", size, images, minimum=3, limit=MAX_SHAKE_SIZE)
        kernel = camera_shake_kernel(size, seed=seed)
    weights, widest = np.asarray(kernel), _widest(images)
    fits = weights.ndim == 2 and weights.size and max(weights.shape) <= widest and weights.dtype.kind in "uif"
    if not (fits and np.isfinite(weights).all()):
        raise ValueError(f"`kernel` must be a non-empty 2-D array of finite weights, sides at most {widest} for images "
                         f"of {images.shape[1]}×{images.shape[2]} pixels. Received: dtype={weights.dtype}, "
                         f"shape={weights.shape}")
    return _blur(images, kernel)


def _blur(images, kernel):
    images = _check_images(images)
    return to_uint8(filters.correlate(images.astype(np.float32), kernel, mode="edge"))


def _widest(images):
    """The widest kernel a blur of these ``(N, H, W, C)`` images can use, in pixels: ``2·max(H, W) + 1``."""
    return 2 * max(images.shape[1:3]) + 1


def _check_kernel(name, value, images, *, taps_per_unit=None, minimum=1, limit=None):
    """Checks a blur's kernel parameter before the kernel exists: no kernel wider than ``2·max(H, W) + 1`` pixels.

    From every pixel such a kernel reaches every other pixel; a wider one only adds border (with a zero border it
    changes nothing more, with the others it weighs the border more), and would take memory and time for nothing.

    Args:
        name: the parameter's name in the message.
        value: the parameter.
        images: the checked images ``(N, H, W, C)``.
        taps_per_unit: ``None`` when ``value`` is the kernel's width in pixels, an integer ≥ ``minimum``; else
            ``value`` is a number > 0 whose kernel has ``taps_per_unit · value + 1`` taps (2 for a radius, 4 for
            DeepCorrect's σ).
        minimum: the smallest integer width.
        limit: the largest value whatever the images.

    Returns:
        ``value`` as an ``int`` or ``float``.
    """
    h, w = images.shape[1:3]
    widest = _widest(images)
    try:
        if taps_per_unit is None:
            return check_int(name, value, minimum=minimum, maximum=min(widest, limit or widest))
        largest = (widest - 1) / taps_per_unit
        largest = int(largest) if largest.is_integer() else largest  # "(0, 16]" rather than "(0, 16.0]"
        return check_number(name, value, minimum=0, exclusive_minimum=True, maximum=min(largest, limit or largest))
    except ValueError as error:
        raise ValueError(str(error).replace(". Received:", f" for images of {h}×{w} pixels. Received:", 1)) from None
