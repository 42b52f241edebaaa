"""Blur corruptions on ``[0, 1]`` float batches: defocus, motion, zoom, Gaussian; glass on uint8 pixels."""

import functools

import numpy as np

from keras_robust.corruptions import color, filters, geometry


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


def glass_blur(pixels, params, rng):
    """Blur, local pixel shuffling, blur again, on uint8 pixels (uint8 out, truncated like the generators).

    The generators "swap" every pixel of the interior, from the bottom-right corner backwards, with a random
    neighbour at offsets in ``[-delta, delta)``, by ``x[h, w], x[h', w'] = x[h', w'], x[h, w]`` on NumPy views of
    RGB pixels. The right side holds views, so the pixel at ``(h, w)`` takes its neighbour's value and the neighbour
    keeps it: a copy, not a swap. CIFAR-10-C and ImageNet-C were made so; this reproduces it.

    A large image runs in bands of rows (`filters.in_row_bands`): both blurs with their kernel's rows of context,
    the shuffle band after band from the bottom (its order), drawing each band's offsets in turn from the one
    stream. The bytes equal those of the whole image at once, in memory of a few times the image.
    """
    sigma, delta, iterations = params
    rows, halo = filters.band_rows(pixels), filters.gaussian_radius(sigma)

    def blur_to_uint8(band):
        return np.floor(filters.gaussian_blur(color.unit(band), sigma) * 255 + 1e-4).astype(np.uint8)

    shuffled = filters.in_row_bands(blur_to_uint8, pixels, np.empty_like(pixels), halo=halo, rows=rows)
    n, h, w, _ = pixels.shape
    interior = (max(h - 2 * delta, 0), max(w - 2 * delta, 0))
    for _ in range(iterations):
        for first in range(0, max(interior[0], 1), rows):
            count = min(rows, interior[0] - first)
            offsets = rng.integers(-delta, delta, size=(n, max(count, 0), interior[1], 2))
            local_shuffle(shuffled, offsets, delta, first_row=first)

    def blur_to_levels(band):
        return color.truncate(filters.gaussian_blur(color.unit(band), sigma))

    return filters.in_row_bands(blur_to_levels, shuffled, np.empty_like(pixels), halo=halo, rows=rows)


def local_shuffle(pixels, offsets, delta, *, first_row=0):
    """In place, gives pixel ``(H - delta - i, W - delta - j)`` the value of the one ``offsets[:, i - first_row, j]``
    = (dx, dy) away, for every ``j`` and every ``i`` from ``first_row`` on (``len(offsets[0])`` rows), in the
    reference's order (rows from the bottom, columns from the right).

    Copies more than ``2 * delta`` columns apart touch disjoint pixels and commute, so a wavefront over rows and
    columns runs many at once and gives exactly the sequential loop's result.
    """
    n, h, w, c = pixels.shape
    schedule = _wavefront(offsets.shape[1], offsets.shape[2], delta)
    if schedule is None:
        return
    row_index, col_index, bounds = schedule
    # one opaque item per pixel (all its channels) makes every copy a cheap 1-D gather and scatter
    flat = pixels.reshape(n * h * w, c).view(np.dtype((np.void, c))).reshape(-1)
    image_start = (np.arange(n) * (h * w))[:, None]
    rows, cols = h - delta - first_row - row_index, w - delta - col_index
    # every copy's target and source flat indices, in wavefront order: a step is a slice of columns
    here_all = image_start + (rows * w + cols)[None, :]
    there_all = image_start + (rows + offsets[:, row_index, col_index, 1]) * w + cols + offsets[:, row_index, col_index, 0]
    for start, stop in bounds:
        flat[here_all[:, start:stop].ravel()] = flat[there_all[:, start:stop].ravel()]


@functools.lru_cache(maxsize=32)
def _wavefront(n_rows, n_cols, delta):
    """Copy positions ``(row_index, col_index)`` of ``n_rows`` by ``n_cols`` copies grouped into steps of mutually
    disjoint copies, in an order that keeps every overlapping pair in the reference's order; ``bounds`` holds each
    step's slice."""
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
