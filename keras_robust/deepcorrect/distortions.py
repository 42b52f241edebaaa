"""The two distortions of DeepCorrect at the CIFAR levels of its reference code."""

import numpy as np

from keras_robust.corruptions.filters import gaussian_blur
from keras_robust.corruptions.noise import gaussian_noise

# Gaussian blur σ in pixels, AWGN σ on the 0-255 scale.
LEVELS = {
    "gaussian_blur": (0.5, 1.0, 1.5, 2.0, 2.5, 3.0),
    "awgn": (5.0, 10.0, 15.0, 20.0, 25.0, 30.0),
}


def distort(images, name, level, rng=None):
    """Distorted copies of [0, 255] images (N, H, W, C), rounded to uint8 values.

    Args:
        images: uint8 or float array of raw pixel values.
        name: `"gaussian_blur"` (σ in pixels) or `"awgn"` (σ on 0-255).
        level: σ of the distortion.
        rng: a `numpy.random.Generator` (AWGN only).

    Returns:
        A float32 array of the same shape, clipped to [0, 255] and rounded.
    """
    if name not in LEVELS:
        raise ValueError(f"`name` must be one of {tuple(LEVELS)}. Received: name={name!r}")
    images = np.asarray(images, dtype="float32")
    if name == "gaussian_blur":
        distorted = gaussian_blur(images, float(level))
    else:
        rng = rng if rng is not None else np.random.default_rng(0)
        distorted = gaussian_noise(images, float(level), rng)
    return np.round(np.clip(distorted, 0, 255)).astype("float32")


def distort_levels(images, name, levels=None, seed=0):
    """One distorted copy of `images` per level (a list, as `rank_filters` takes)."""
    rng = np.random.default_rng(seed)
    return [distort(images, name, level, rng) for level in (levels or LEVELS[name])]
