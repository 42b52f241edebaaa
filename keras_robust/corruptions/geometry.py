"""Resampling of image batches ``(N, H, W, C)``: zooms and resizes as matrices."""

import functools

import numpy as np
from scipy import ndimage, sparse

_PIL_PRECISION_BITS = 22  # Pillow's fixed-point resampling (32 - 8 - 2 bits)


def _taps(matrix):
    """The nonzero entries of a resampling matrix as ``(index, weight)`` arrays ``(rows, taps)``."""
    counts = np.count_nonzero(matrix, axis=1)
    taps = max(int(counts.max()), 1)
    order = np.argsort(matrix == 0, axis=1, kind="stable")[:, :taps]
    return order, np.take_along_axis(matrix, order, axis=1)


def _resample(images, matrix, axis):
    """Applies a linear map ``(out, in)`` along ``axis`` of ``(N, H, W, C)`` images, one gather per tap."""
    index, weight = _taps(matrix)
    shape = [1, 1, 1, 1]
    shape[axis] = -1
    dtype = np.float64 if images.dtype == np.float64 else np.float32
    out = 0
    for tap in range(index.shape[1]):
        out = out + np.take(images, index[:, tap], axis=axis) * weight[:, tap].astype(dtype).reshape(shape)
    return np.asarray(out, dtype=dtype)


def resample_rows(images, matrix):
    """``matrix @ image`` for every image of ``(N, H, W, C)``: a sparse linear map ``(H', H)`` of the rows."""
    return _resample(images, matrix, axis=1)


def resample_cols(images, matrix):
    """``image @ matrix.T`` for every image and channel: a sparse linear map ``(W', W)`` of the columns."""
    return _resample(images, matrix, axis=2)


def apply_matrices(images, rows, cols):
    """``rows @ image @ cols.T`` for every image and channel: a separable linear resampling."""
    return resample_cols(resample_rows(images, rows), cols)


@functools.lru_cache(maxsize=256)
def clipped_zoom_matrix(size, zoom):
    """The generators' ``clipped_zoom`` along one axis as an ``(size, size)`` matrix.

    The centre ``ceil(size / zoom)`` pixels are zoomed with ``scipy.ndimage.zoom(order=1)`` and the centre ``size``
    pixels of the result are kept.
    """
    crop = int(np.ceil(size / zoom))
    top = (size - crop) // 2
    zoomed = ndimage.zoom(np.eye(crop), (zoom, 1), order=1)
    trim = (zoomed.shape[0] - size) // 2
    matrix = np.zeros((size, size))
    matrix[:, top : top + crop] = zoomed[trim : trim + size]
    return matrix


def clipped_zoom(images, zoom):
    """Zooms into the centre of every image by ``zoom`` (≥ 1), keeping its size."""
    _, h, w, _ = images.shape
    return apply_matrices(images, clipped_zoom_matrix(h, zoom), clipped_zoom_matrix(w, zoom))


@functools.lru_cache(maxsize=16)
def zoom_blur_operator(h, w, zooms):
    """The mean of an image and its clipped zooms by every factor of ``zooms``, as one sparse ``(H·W, H·W)`` matrix.

    Each zoom moves every pixel by a few pixels at most, so the sum stays sparse.
    """
    total = sparse.identity(h * w, format="csr")
    for zoom in zooms:
        rows = sparse.csr_matrix(clipped_zoom_matrix(h, zoom))
        cols = sparse.csr_matrix(clipped_zoom_matrix(w, zoom))
        total = total + sparse.kron(rows, cols, format="csr")
    return (total / (len(zooms) + 1)).astype(np.float32).tocsr()


def apply_pixel_operator(images, operator):
    """``operator @ pixels`` for a linear map of the ``H·W`` pixels of every image and channel."""
    n, h, w, c = images.shape
    columns = images.reshape(n, h * w, c).transpose(1, 0, 2).reshape(h * w, n * c)
    out = operator @ columns
    return np.ascontiguousarray(out.reshape(-1, n, c).transpose(1, 0, 2)).reshape(n, h, w, c)


@functools.lru_cache(maxsize=256)
def _pil_box_coefficients(in_size, out_size):
    """Pillow's ``Image.BOX`` resampling weights along one axis, in its fixed-point integers."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 0.5 * filterscale
    matrix = np.zeros((out_size, in_size))
    for out in range(out_size):
        center = (out + 0.5) * scale
        low = max(int(center - support + 0.5), 0)
        high = min(int(center + support + 0.5), in_size)
        pixels = np.arange(low, high)
        offsets = (pixels - center + 0.5) * (1.0 / filterscale)  # as Pillow: times the reciprocal
        weights = ((offsets > -0.5) & (offsets <= 0.5)).astype(np.float64)
        if weights.sum():
            weights /= weights.sum()
        matrix[out, low:high] = np.floor(0.5 + weights * (1 << _PIL_PRECISION_BITS))
    return matrix


def _pil_round(summed):
    """Pillow's rounding of a fixed-point sum to uint8 (float64 holds these integer sums exactly)."""
    return np.clip(np.floor((summed + (1 << (_PIL_PRECISION_BITS - 1))) / (1 << _PIL_PRECISION_BITS)), 0, 255)


def pil_box_resize(images, height, width):
    """``PIL.Image.resize((width, height), Image.BOX)`` of uint8 images: horizontal pass first, as Pillow.

    Enlarging, Pillow's box covers a single source pixel, so those passes are exact gathers of uint8 pixels. Equal to
    Pillow when both sides shrink by the same factor, as in ``pixelate`` (tested); with unequal factors Pillow 13
    differs by one grey level on a few pixels.
    """
    _, h, w, _ = images.shape
    out = images
    for axis, size in ((2, width), (1, height)):
        if size == out.shape[axis]:
            continue
        coefficients = _pil_box_coefficients(out.shape[axis], size)
        if size > out.shape[axis]:
            out = np.take(out, coefficients.argmax(axis=1), axis=axis)
        else:
            out = _pil_round(_resample(out.astype(np.float64), coefficients, axis)).astype(np.uint8)
    return out


@functools.lru_cache(maxsize=64)
def linear_resize_matrix(in_size, out_size):
    """Bilinear resizing along one axis with pixel centres aligned (OpenCV's ``INTER_LINEAR``)."""
    position = (np.arange(out_size) + 0.5) * in_size / out_size - 0.5
    position = np.clip(position, 0, in_size - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, in_size - 1)
    frac = position - low
    matrix = np.zeros((out_size, in_size))
    np.add.at(matrix, (np.arange(out_size), low), 1 - frac)
    np.add.at(matrix, (np.arange(out_size), high), frac)
    return matrix
