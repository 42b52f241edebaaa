"""Noise corruptions on ``[0, 1]`` float batches: Gaussian, shot (Poisson), impulse (salt and pepper), speckle."""

import functools

import numpy as np
from scipy import special

_GUIDE = 256  # buckets of the inverse-CDF guide tables


def gaussian_noise(images, scale, rng):
    return images + rng.standard_normal(images.shape, dtype=np.float32) * np.float32(scale)


def shot_noise(pixels, photons, rng):
    """``Poisson(x · photons) / photons`` on uint8 pixels, by inverting the Poisson CDF of each of the 256 levels.

    Counts of ``photons`` or more all give 255, the generators' clipping, so the tables stop there. A guide table
    per level starts the search next to the answer; a few vectorized steps finish it (exact inversion).
    """
    cdf, guide, levels = _shot_tables(float(photons))
    width = cdf.shape[1]
    level = pixels.reshape(-1).astype(np.int32)
    draw = rng.random(level.shape)
    count = guide.reshape(-1)[level * _GUIDE + (draw * _GUIDE).astype(np.int32)]
    base = level * width
    flat_cdf = cdf.reshape(-1)
    pending = np.flatnonzero(flat_cdf[base + count] <= draw)
    while pending.size:
        count[pending] += 1
        pending = pending[flat_cdf[base[pending] + count[pending]] <= draw[pending]]
    return levels[count].reshape(pixels.shape)


@functools.lru_cache(maxsize=16)
def _shot_tables(photons):
    last = int(np.ceil(photons))
    counts = np.arange(last + 1)
    rates = np.arange(256)[:, None] / 255 * photons
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pmf = counts * np.log(rates) - rates - special.gammaln(counts + 1)
    pmf = np.where(rates > 0, np.exp(log_pmf), counts == 0)
    cdf = np.cumsum(pmf, axis=1)
    cdf[:, -1] = np.inf  # the clipped tail: every draw below 1 stops here at the latest
    guide = np.stack([np.searchsorted(row, np.arange(_GUIDE) / _GUIDE, side="right") for row in cdf]).astype(np.int32)
    levels = np.floor(np.minimum(counts / photons, 1) * 255 + 1e-3).astype(np.uint8)
    return cdf, guide, levels


def impulse_noise(pixels, amount, rng):
    """Salt and pepper on every channel value independently, half of each (``skimage`` ``mode="s&p"``), on uint8."""
    draw = rng.random(pixels.shape, dtype=np.float32)
    out = pixels.copy()
    out[draw < amount / 2] = 0
    out[(draw >= amount / 2) & (draw < amount)] = 255
    return out


def speckle_noise(images, scale, rng):
    return images + images * rng.standard_normal(images.shape, dtype=np.float32) * np.float32(scale)
