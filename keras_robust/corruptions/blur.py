"""Blur corruptions on ``[0, 1]`` float batches: defocus, glass, motion, zoom, Gaussian."""

import functools

import numpy as np

from keras_robust.corruptions import filters, geometry


def defocus_blur(images, params, rng):
    radius, alias_blur = params
    return filters.correlate(images, filters.disk_kernel(radius, alias_blur), mode="reflect")


def gaussian_blur(images, sigma, rng):
    return filters.gaussian_blur(images, sigma)


def motion_blur(images, params, rng):
    radius, sigma = params
    angles = rng.uniform(-45, 45, size=len(images))
    # ImageMagick writes 8-bit pixels, rounded
    return np.round(filters.motion_blur(images * 255, radius, sigma, angles)) / 255


def zoom_blur(images, zooms, rng):
    """The mean of the image and its centre zooms (``clipped_zoom``) by every factor of ``zooms``."""
    _, h, w, _ = images.shape
    return geometry.apply_pixel_operator(images, geometry.zoom_blur_operator(h, w, tuple(zooms)))


def glass_blur(images, params, rng):
    """Blur, local pixel shuffling, blur again.

    The generators "swap" every pixel of the interior, from the bottom-right corner backwards, with a random
    neighbour at offsets in ``[-delta, delta)``, by ``x[h, w], x[h', w'] = x[h', w'], x[h, w]`` on NumPy views of
    RGB pixels. The right side holds views, so the pixel at ``(h, w)`` takes its neighbour's value and the neighbour
    keeps it: a copy, not a swap. CIFAR-10-C and ImageNet-C were made so; this reproduces it.
    """
    sigma, delta, iterations = params
    pixels = np.floor(filters.gaussian_blur(images, sigma) * 255 + 1e-4).astype(np.uint8)
    n, h, w, _ = pixels.shape
    for _ in range(iterations):
        offsets = rng.integers(-delta, delta, size=(n, max(h - 2 * delta, 0), max(w - 2 * delta, 0), 2))
        local_shuffle(pixels, offsets, delta)
    return filters.gaussian_blur(pixels.astype(np.float32) / 255, sigma)


def local_shuffle(pixels, offsets, delta):
    """In place, gives pixel ``(H - delta - i, W - delta - j)`` the value of the one ``offsets[:, i, j]`` = (dx, dy)
    away, for every ``i, j`` in the reference's order (rows from the bottom, columns from the right).

    Copies more than ``2 * delta`` columns apart touch disjoint pixels and commute, so a wavefront over rows and
    columns runs many at once and gives exactly the sequential loop's result.
    """
    n, h, w, c = pixels.shape
    schedule = _wavefront(h, w, delta)
    if schedule is None:
        return
    row_index, col_index, bounds = schedule
    # one opaque item per pixel (all its channels) makes every copy a cheap 1-D gather and scatter
    flat = pixels.reshape(n * h * w, c).view(np.dtype((np.void, c))).reshape(-1)
    image_start = (np.arange(n) * (h * w))[:, None]
    rows, cols = h - delta - row_index, w - delta - col_index
    # every copy's target and source flat indices, in wavefront order: a step is a slice of columns
    here_all = image_start + (rows * w + cols)[None, :]
    there_all = image_start + (rows + offsets[:, row_index, col_index, 1]) * w + cols + offsets[:, row_index, col_index, 0]
    for start, stop in bounds:
        flat[here_all[:, start:stop].ravel()] = flat[there_all[:, start:stop].ravel()]


@functools.lru_cache(maxsize=32)
def _wavefront(h, w, delta):
    """Copy positions ``(row_index, col_index)`` grouped into steps of mutually disjoint copies, in an order that keeps
    every overlapping pair in the reference's order; ``bounds`` holds each step's slice."""
    n_rows, n_cols = h - 2 * delta, w - 2 * delta
    if n_rows <= 0 or n_cols <= 0:
        return None
    stride = 2 * delta + 1
    rows, cols, bounds = [], [], []
    start = 0
    for step in range(n_cols + (n_rows - 1) * stride):
        row_index = np.arange(n_rows)
        col_index = step - row_index * stride
        keep = (col_index >= 0) & (col_index < n_cols)
        rows.append(row_index[keep])
        cols.append(col_index[keep])
        bounds.append((start, start + int(keep.sum())))
        start = bounds[-1][1]
    return np.concatenate(rows), np.concatenate(cols), tuple(bounds)
