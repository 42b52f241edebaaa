"""Filters over a batch of images ``(N, H, W, C)``: Gaussian, 2-D kernels (disk, motion line, any), OpenCV's kernels."""

import functools

import cv2
import numpy as np
from scipy import ndimage

_SEPARABLE_TAPS = 64  # wider Gaussian kernels run as matrix products, faster than per-image filtering
# pixel values of a band of rows of one large image (see `band_rows`): float32 temporaries of 8 MB
BAND_VALUES = 1 << 21
# scipy's border modes as OpenCV's
_BORDERS = {"nearest": cv2.BORDER_REPLICATE, "reflect": cv2.BORDER_REFLECT, "mirror": cv2.BORDER_REFLECT_101}


def band_rows(images):
    """Rows per band of `in_row_bands` for a batch ``(N, H, W, C)``: about `BAND_VALUES` values for one image,
    every row for several (the callers' chunks of several images are small already)."""
    n, h, w, c = images.shape
    return h if n > 1 else max(1, BAND_VALUES // (w * c))


def in_row_bands(function, images, out, *, halo, rows):
    """``out = function(images)`` computed on bands of ``rows`` rows, each with ``halo`` rows of context above and
    below (fewer at the image's edges, where the band's edge is the image's own).

    A filter that reads at most ``halo`` rows away gives every row the same inputs, borders included, as on the whole
    image: the same result in a fraction of the memory. ``function`` maps ``(N, h, W, C)`` to ``(N, h, W, C')``.

    Args:
        function: the per-band computation.
        images: array ``(N, H, W, C)``.
        out: array ``(N, H, W, C')`` receiving the result (returned).
        halo: rows of context ``function`` needs on each side.
        rows: rows per band (all ``H`` rows: one call on the whole batch).
    """
    h = images.shape[1]
    for first in range(0, h, rows):
        last = min(first + rows, h)
        top, bottom = max(first - halo, 0), min(last + halo, h)
        out[:, first:last] = function(images[:, top:bottom])[:, first - top : last - top]
    return out


def gaussian_radius(sigma, truncate=4.0):
    """Taps on each side of scipy's (and `gaussian_blur`'s) Gaussian kernel."""
    return int(truncate * sigma + 0.5)


def gaussian_blur(images, sigma, *, mode="nearest", truncate=4.0):
    """Gaussian blur of the spatial axes, like ``skimage.filters.gaussian`` (``mode="nearest"``, truncate 4).

    scipy's taps, run by OpenCV's separable float32 filter one image at a time; a kernel of more than
    ``_SEPARABLE_TAPS`` taps or wider than the image (the elastic transform's) is applied as one dense matrix per
    axis, in two large matrix products for the whole batch.
    """
    if sigma <= 0:
        return images
    images = np.asarray(images, np.float32)
    _, h, w = images.shape[:3]
    radius = gaussian_radius(sigma, truncate)
    if 2 * radius + 1 > _SEPARABLE_TAPS or radius >= min(h, w):
        rows = _gaussian_matrix(h, float(sigma), mode, truncate)
        cols = _gaussian_matrix(w, float(sigma), mode, truncate)
        return _apply_dense_separable(images, rows, cols)
    taps = _gaussian_taps(float(sigma), radius)
    out = np.empty(images.shape, np.float32)
    for image, result in zip(images, out):
        result[...] = cv2.sepFilter2D(image, cv2.CV_32F, taps, taps, borderType=_BORDERS[mode]).reshape(result.shape)
    return out


def _apply_dense_separable(images, rows, cols):
    """``rows @ image @ cols.T`` for every image and channel of ``(N, H, W[, C])`` float32 images, for dense
    ``rows`` and ``cols`` (`geometry.apply_matrices` is the same map for sparse ones, one gather per tap).

    Each axis is one matrix product over the whole batch: many small products run an order of magnitude slower.
    """
    n, h, w = images.shape[:3]
    planes = np.moveaxis(images.reshape(n, h, w, -1), 3, 1)  # (N, C, H, W)
    out = planes.reshape(-1, w) @ cols.T  # (N·C·H, W)
    out = np.ascontiguousarray(out.reshape(-1, h, w).transpose(0, 2, 1)).reshape(-1, h) @ rows.T  # (N·C·W, H)
    out = out.reshape(n, -1, w, h).transpose(0, 3, 2, 1)  # (N, H, W, C)
    return np.ascontiguousarray(out).reshape(images.shape)


@functools.lru_cache(maxsize=64)
def _gaussian_taps(sigma, radius):
    """scipy's normalized Gaussian taps (float32 column) for ``sigma`` and ``radius``."""
    x = np.arange(-radius, radius + 1)
    taps = np.exp(-0.5 / sigma**2 * x**2)
    return (taps / taps.sum()).astype(np.float32)[:, None]


@functools.lru_cache(maxsize=32)
def _gaussian_matrix(size, sigma, mode, truncate):
    """scipy's 1-D Gaussian filter of a signal of ``size`` samples as a float32 matrix (its response to each unit
    vector)."""
    return ndimage.gaussian_filter1d(np.eye(size), sigma, axis=0, mode=mode, truncate=truncate).astype(np.float32)


def correlate(images, kernel, *, mode="reflect"):
    """Correlates each image with a 2-D kernel (OpenCV's ``filter2D``, float32, which switches to a DFT for large
    kernels), borders padded like ``numpy.pad(mode=mode)``.

    Args:
        images: float array ``(N, H, W, C)``.
        kernel: the kernel ``(kh, kw)``; sides may be even (the centre is then the element at ``k // 2``).
        mode: ``numpy.pad`` mode: ``"reflect"`` (OpenCV's default border), ``"edge"``, ``"symmetric"``.

    Returns:
        float32 array of the images' shape.
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    border = {"reflect": cv2.BORDER_REFLECT_101, "edge": cv2.BORDER_REPLICATE, "symmetric": cv2.BORDER_REFLECT}[mode]
    images = np.asarray(images, np.float32)
    out = np.empty(images.shape, np.float32)
    for image, result in zip(images, out):
        result[...] = cv2.filter2D(image, cv2.CV_32F, kernel, borderType=border).reshape(result.shape)
    return out


def disk_kernel(radius, alias_blur):
    """The anti-aliased disk of the corruption generators (``disk`` with OpenCV's ``GaussianBlur``)."""
    half = 8 if radius <= 8 else int(np.ceil(radius))
    ksize = 3 if radius <= 8 else 5
    grid = np.arange(-half, half + 1)
    x, y = np.meshgrid(grid, grid)
    disk = (x**2 + y**2 <= radius**2).astype(np.float64)
    disk /= disk.sum()
    taps = np.exp(-((np.arange(ksize) - ksize // 2) ** 2) / (2 * alias_blur**2))
    taps /= taps.sum()
    for axis in (0, 1):
        disk = ndimage.correlate1d(disk, taps, axis=axis, mode="mirror")
    return _trim_zeros(disk)


def _trim_zeros(kernel):
    """Drops all-zero outer rows and columns symmetrically, which changes no filtered value."""
    while kernel.shape[0] > 1 and not kernel[[0, -1]].any() and not kernel[:, [0, -1]].any():
        kernel = kernel[1:-1, 1:-1]
    return kernel


@functools.lru_cache(maxsize=64)
def motion_taps(radius, sigma):
    """Weights of ImageMagick's ``MotionBlurImage``: a one-sided Gaussian over ``2 * ceil(radius) + 1`` taps."""
    width = 2 * int(np.ceil(radius)) + 1
    taps = np.exp(-(np.arange(width) ** 2) / (2.0 * sigma**2))
    return taps / taps.sum()


def motion_offsets(radius, sigma, angles):
    """Pixel offsets ``(dx, dy)``, each ``(len(angles), taps)``, of ImageMagick's motion blur at every angle (degrees).

    Tap ``i`` samples the pixel at ``(x, y) + (ceil(i cos a - 0.5), ceil(i sin a - 0.5))``.
    """
    steps = np.arange(len(motion_taps(radius, sigma)))[None, :]
    radians = np.deg2rad(np.asarray(angles, dtype=np.float64))[:, None]
    dx = np.ceil(steps * np.cos(radians) - 0.5).astype(np.int64)
    dy = np.ceil(steps * np.sin(radians) - 0.5).astype(np.int64)
    return dx, dy


def motion_blur(images, radius, sigma, angles):
    """Motion blur with one angle per image, edge pixels repeated beyond the border (as ImageMagick).

    One image at a time: its edge-padded copy (``cv2.copyMakeBorder``) and its sum stay in the processor's cache,
    and every tap is one ``cv2.scaleAdd`` of a shifted view (float32 multiply-add, in the order of the taps).
    """
    taps = motion_taps(radius, sigma).astype(np.float32)
    dx, dy = motion_offsets(radius, sigma, angles)
    images = np.asarray(images, np.float32)
    n, h, w = images.shape[:3]
    out = np.empty(images.shape, np.float32)
    for image, total, xs, ys in zip(images, out, dx, dy):
        top, left = max(0, -ys.min()), max(0, -xs.min())
        bottom, right = max(0, ys.max()), max(0, xs.max())
        source = cv2.copyMakeBorder(image, int(top), int(bottom), int(left), int(right), cv2.BORDER_REPLICATE)
        source = source.reshape(source.shape[:2] + image.shape[2:])
        total[...] = 0
        for weight, x, y in zip(taps, xs + left, ys + top):
            cv2.scaleAdd(source[y : y + h, x : x + w], float(weight), total, dst=total)
    return out
