"""The two distortions of DeepCorrect at the CIFAR levels of its reference code."""

import numpy as np

from keras_robust.corruptions import awgn, gaussian_blur

# Gaussian blur σ in pixels, AWGN σ on the 0-255 scale.
LEVELS = {
    "gaussian_blur": (0.5, 1.0, 1.5, 2.0, 2.5, 3.0),
    "awgn": (5.0, 10.0, 15.0, 20.0, 25.0, 30.0),
}


def distort(images, name, level, rng=None):
    """Distorted copies of [0, 255] images with `keras_robust.corruptions`.

    Args:
        images: uint8 or float array (N, H, W, C) of raw pixel values.
        name: `"gaussian_blur"` (σ in pixels) or `"awgn"` (σ on 0-255).
        level: σ of the distortion.
        rng: a `numpy.random.Generator` drawing the AWGN seed.

    Returns:
        A float32 array of uint8 values, the models' input.
    """
    if name not in LEVELS:
        raise ValueError(f"`name` must be one of {tuple(LEVELS)}. Received: name={name!r}")
    images = np.clip(np.round(np.asarray(images, dtype="float32")), 0, 255).astype("uint8")
    if name == "gaussian_blur":
        return gaussian_blur(images, float(level)).astype("float32")
    rng = rng if rng is not None else np.random.default_rng(0)
    return awgn(images, float(level), seed=int(rng.integers(2**31))).astype("float32")


def distort_levels(images, name, levels=None, seed=0):
    """One distorted copy of `images` per level (a list, as `rank_filters` takes)."""
    rng = np.random.default_rng(seed)
    return [distort(images, name, level, rng) for level in (levels or LEVELS[name])]
