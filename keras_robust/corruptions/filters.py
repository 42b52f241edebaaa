"""Filters over a batch of images ``(N, H, W, C)``: Gaussian, 2-D kernels (disk, motion line, any) by FFT."""

import functools

import numpy as np
from scipy import fft, ndimage

_CHUNK_VALUES = 1 << 22  # images per FFT call are limited so that temporaries stay around a hundred MB
_DIRECT_TAPS = 49  # up to 7×7, direct correlation beats the FFT


def gaussian_blur(images, sigma, *, mode="nearest", truncate=4.0):
    """Gaussian blur of the spatial axes, like ``skimage.filters.gaussian`` (``mode="nearest"``, truncate 4).

    A kernel wider than the image (the elastic transform's) is applied as one dense matrix per axis.
    """
    if sigma <= 0:
        return images
    _, h, w = images.shape[:3]
    if 2 * int(truncate * sigma + 0.5) + 1 > max(h, w) and images.ndim == 4:
        rows = _gaussian_matrix(h, float(sigma), mode, truncate).astype(images.dtype)
        cols = _gaussian_matrix(w, float(sigma), mode, truncate).astype(images.dtype)
        out = np.tensordot(rows, images, axes=(1, 1))  # (H, N, W, C)
        out = np.tensordot(cols, out, axes=(1, 2))  # (W, H, N, C)
        return np.ascontiguousarray(out.transpose(2, 1, 0, 3))
    spatial = (0, sigma, sigma) + (0,) * (images.ndim - 3)
    return ndimage.gaussian_filter(images, spatial, mode=mode, truncate=truncate)


@functools.lru_cache(maxsize=32)
def _gaussian_matrix(size, sigma, mode, truncate):
    """scipy's 1-D Gaussian filter of a signal of ``size`` samples as a matrix (its response to each unit vector)."""
    return ndimage.gaussian_filter1d(np.eye(size), sigma, axis=0, mode=mode, truncate=truncate)


def correlate(images, kernel, *, mode="reflect"):
    """Correlates each image with a 2-D kernel, by FFT, borders padded like ``numpy.pad(mode=mode)``.

    Args:
        images: float array ``(N, H, W, C)``.
        kernel: the kernel ``(kh, kw)``; sides may be even (the centre is then the element at ``k // 2``).
        mode: ``numpy.pad`` mode: ``"reflect"`` (OpenCV's default border), ``"edge"``, ``"symmetric"``.

    Returns:
        float32 array of the images' shape.
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    kh, kw = kernel.shape
    if kh * kw <= _DIRECT_TAPS:
        # small kernels: direct correlation (scipy also centres an even side at k // 2)
        scipy_mode = {"reflect": "mirror", "edge": "nearest", "symmetric": "reflect"}[mode]
        return ndimage.correlate(images.astype(np.float32, copy=False), kernel[None, :, :, None], mode=scipy_mode)
    top, left = kh // 2, kw // 2
    pad = ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left), (0, 0))
    # convolution with the flipped kernel is correlation
    flipped = kernel[None, ::-1, ::-1, None]
    n, h, w, c = images.shape
    size = (fft.next_fast_len(h + kh - 1, real=True), fft.next_fast_len(w + kw - 1, real=True))
    # a circular convolution as long as the padded image leaves its valid part unwrapped
    kernel_spectrum = fft.rfft2(flipped, s=size, axes=(1, 2))
    step = max(1, _CHUNK_VALUES // (size[0] * size[1] * c))
    out = np.empty(images.shape, np.float32)
    for start in range(0, n, step):
        padded = np.pad(images[start : start + step].astype(np.float32, copy=False), pad, mode=mode)
        spectrum = fft.rfft2(padded, s=size, axes=(1, 2), workers=-1)
        full = fft.irfft2(spectrum * kernel_spectrum, s=size, axes=(1, 2), workers=-1)
        out[start : start + step] = full[:, kh - 1 : kh - 1 + h, kw - 1 : kw - 1 + w]
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

    One image at a time, so that its padded copy and its sum stay in the processor's cache across the taps, with
    no temporary array per tap (the same float32 products and sums, in the same order, as a batched pass).
    """
    taps = motion_taps(radius, sigma).astype(np.float32)
    dx, dy = motion_offsets(radius, sigma, angles)
    n, h, w, c = images.shape
    out = np.empty(images.shape, np.float32)
    product = np.empty((h, w, c), np.float32)
    for index in range(n):
        xs, ys = dx[index], dy[index]
        top, left = max(0, -ys.min()), max(0, -xs.min())
        pad = ((top, max(0, ys.max())), (left, max(0, xs.max())), (0, 0))
        source = np.pad(images[index].astype(np.float32, copy=False), pad, mode="edge")
        total = out[index]
        total[...] = 0
        for weight, x, y in zip(taps, xs + left, ys + top):
            np.multiply(source[y : y + h, x : x + w], weight, out=product)
            total += product
    return out
