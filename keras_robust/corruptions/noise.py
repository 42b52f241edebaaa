"""Noise corruptions on ``[0, 1]`` float batches: Gaussian, shot (Poisson), impulse (salt and pepper), speckle."""

import numpy as np


def gaussian_noise(images, scale, rng):
    return images + rng.standard_normal(images.shape, dtype=np.float32) * np.float32(scale)


def shot_noise(images, photons, rng):
    return (rng.poisson(images * photons) / photons).astype(np.float32)


def impulse_noise(images, amount, rng):
    """Salt and pepper on every channel value independently, half of each (``skimage`` ``mode="s&p"``)."""
    draw = rng.random(images.shape, dtype=np.float32)
    out = np.where(draw < amount / 2, 0.0, images)
    return np.where((draw >= amount / 2) & (draw < amount), 1.0, out).astype(np.float32)


def speckle_noise(images, scale, rng):
    return images + images * rng.standard_normal(images.shape, dtype=np.float32) * np.float32(scale)
