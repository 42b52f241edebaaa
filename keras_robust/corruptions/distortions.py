"""The distortions of the push–pull paper (Figs. 4–5) and of DeepCorrect (Sections III-A and V-B).

All take uint8 batches ``(N, H, W, C)`` and return uint8 of the same shape, rounded to the nearest level.
"""

import numpy as np

from keras_robust.corruptions import filters
from keras_robust.corruptions.suite import _check_images

AWGN_SIGMAS = (10, 20, 40, 60, 80, 100)  # DeepCorrect, on the 0..255 scale
GAUSSIAN_BLUR_SIGMAS = (1, 2, 3, 4, 5, 6)  # DeepCorrect, kernel side 4σ


def _to_uint8(images):
    return np.clip(np.round(images), 0, 255).astype(np.uint8)


def gaussian_noise_variance(images, variance, *, seed=None):
    """Adds Gaussian noise of variance ``variance`` to the images scaled to [0, 1] (push–pull paper, Fig. 4).

    Args:
        images: uint8 array ``(N, H, W, C)``.
        variance: noise variance σ² on the [0, 1] scale, ≥ 0.
        seed: ``None`` or an integer for reproducible noise.

    Returns:
        uint8 array, clipped to 0..255.

    Example:
        >>> import numpy as np
        >>> gaussian_noise_variance(np.zeros((1, 28, 28, 1), np.uint8), 0.1, seed=0).shape
        (1, 28, 28, 1)
    """
    _check_non_negative("variance", variance)
    return awgn(images, 255 * np.sqrt(variance), seed=seed)


def awgn(images, sigma, *, seed=None):
    """Additive white Gaussian noise of standard deviation ``sigma`` on the 0..255 scale (DeepCorrect, σn).

    Args:
        images: uint8 array ``(N, H, W, C)``.
        sigma: standard deviation in grey levels, e.g. one of ``AWGN_SIGMAS``.
        seed: ``None`` or an integer.

    Returns:
        uint8 array, clipped to 0..255.

    Example:
        >>> import numpy as np
        >>> awgn(np.full((1, 32, 32, 3), 128, np.uint8), 10, seed=0).std() > 5
        True
    """
    images = _check_images(images)
    _check_non_negative("sigma", sigma)
    noise = np.random.default_rng(seed).standard_normal(images.shape) * sigma
    return _to_uint8(images + noise)


def contrast_change(images, factor):
    """``I_C = (I − 0.5)·C + 0.5`` on the images scaled to [0, 1] (push–pull paper, Fig. 5), without noise.

    Example:
        >>> import numpy as np
        >>> contrast_change(np.full((1, 8, 8, 1), 255, np.uint8), 0.5)[0, 0, 0, 0]
        191
    """
    images = _check_images(images)
    _check_non_negative("factor", factor)
    return _to_uint8(((images / 255.0 - 0.5) * factor + 0.5) * 255)


def contrast_poisson(images, factor, *, photons=255.0, seed=None):
    """Contrast change followed by Poisson (shot) noise (push–pull paper, Fig. 5).

    Args:
        images: uint8 array ``(N, H, W, C)``.
        factor: contrast factor ``C`` (the paper uses 0.5 down to 0.2).
        photons: expected photon count of a white pixel: each value becomes ``Poisson(I_C · photons) / photons``.
            The paper does not state it; 255 makes the count the grey level.
        seed: ``None`` or an integer.

    Returns:
        uint8 array.
    """
    if not photons > 0:
        raise ValueError(f"`photons` must be positive. Received: photons={photons!r}.")
    changed = contrast_change(images, factor) / 255.0
    rng = np.random.default_rng(seed)
    return _to_uint8(rng.poisson(changed * photons) / photons * 255)


def gaussian_blur_kernel(sigma):
    """DeepCorrect's Gaussian blur kernel: side ``4σ`` (rounded, at least 1), normalized to sum 1.

    Example:
        >>> gaussian_blur_kernel(2).shape
        (8, 8)
    """
    _check_positive("sigma", sigma)
    side = max(int(round(4 * sigma)), 1)
    grid = np.arange(side) - (side - 1) / 2
    taps = np.exp(-(grid**2) / (2.0 * sigma**2))
    kernel = np.outer(taps, taps)
    return kernel / kernel.sum()


def gaussian_blur(images, sigma):
    """Gaussian blur with DeepCorrect's kernel of side 4σ, borders repeated.

    Example:
        >>> import numpy as np
        >>> gaussian_blur(np.full((1, 32, 32, 3), 90, np.uint8), 3).max()
        90
    """
    return _blur(images, gaussian_blur_kernel(sigma))


def defocus_disk_blur(images, radius):
    """Defocus blur with a spatially uniform disk of ``radius`` pixels (DeepCorrect V-B, after Vasiljevic et al.)."""
    _check_positive("radius", radius)
    half = int(np.ceil(radius))
    grid = np.arange(-half, half + 1)
    disk = (grid[:, None] ** 2 + grid[None, :] ** 2 <= radius**2).astype(np.float64)
    return _blur(images, disk / disk.sum())


def motion_line_blur(images, length, direction="horizontal"):
    """Uniform linear motion: a box kernel one pixel wide and ``length`` long (DeepCorrect V-B).

    Args:
        images: uint8 array ``(N, H, W, C)``.
        length: kernel length in pixels, ≥ 1.
        direction: ``"horizontal"`` or ``"vertical"``.
    """
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"`length` must be a positive integer. Received: length={length!r}.")
    if direction not in ("horizontal", "vertical"):
        raise ValueError(f"Unknown direction. Received: direction={direction!r}; accepted: 'horizontal', 'vertical'.")
    kernel = np.full((1, length), 1.0 / length)
    return _blur(images, kernel if direction == "horizontal" else kernel.T)


def camera_shake_kernel(size=17, *, steps=200, seed=None):
    """A random camera-shake blur kernel: a jittery 2-D trajectory rasterized into ``size × size`` cells.

    The trajectory has inertia (velocity with momentum), random accelerations and occasional jerks, the
    construction of Boracchi & Foi's camera-shake model that random kernel generators for DeepCorrect's
    ``Cam.Blur`` follow; it is scaled to fit the kernel and splatted bilinearly, then normalized to sum 1.

    Args:
        size: kernel side in pixels, ≥ 3.
        steps: trajectory samples.
        seed: ``None`` or an integer (DeepCorrect averages over 100 random kernels).

    Returns:
        float64 array ``(size, size)``.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 3:
        raise ValueError(f"`size` must be an integer ≥ 3. Received: size={size!r}.")
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


def camera_shake_blur(images, kernel=None, *, size=17, seed=None):
    """Blurs with a camera-shake kernel: ``kernel``, or a new one from :func:`camera_shake_kernel`."""
    if kernel is None:
        kernel = camera_shake_kernel(size, seed=seed)
    return _blur(images, kernel)


def _blur(images, kernel):
    images = _check_images(images)
    return _to_uint8(filters.correlate(images.astype(np.float32), kernel, mode="edge"))


def _check_non_negative(label, value):
    if not np.isscalar(value) or not value >= 0:
        raise ValueError(f"`{label}` must be a number ≥ 0. Received: {label}={value!r}.")


def _check_positive(label, value):
    if not np.isscalar(value) or not value > 0:
        raise ValueError(f"`{label}` must be a number > 0. Received: {label}={value!r}.")
