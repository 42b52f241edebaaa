"""Colour operations: luma of ``[0, 1]`` RGB batches; HSV value and saturation changes of uint8 RGB batches.

The two HSV changes never convert to HSV: a pixel's result depends on its value ``V`` (largest channel), its
minimum ``M`` and the channel itself, so a table over ``(V, M)`` or ``(V, channel)``, built once per parameter from
256 × 256 entries, turns each into a few uint8 passes and one gather (no float image, no per-pixel division).
"""

import functools

import cv2
import numpy as np

# Pixels per pass, so that a pass's planes and tables stay in a core's cache: batch-wide passes over a large batch
# of 224-px images ran a third slower than the same passes one image at a time.
CHUNK_PIXELS = 1 << 16
LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601, as OpenCV's RGB2GRAY
TRUNCATION_SLACK = 1e-3  # float round-off must not turn 100.0 into 99 when truncating like np.uint8
_LEVELS = np.arange(256)


def unit(pixels):
    """uint8 pixels as float32 values in ``[0, 1]``."""
    return np.divide(pixels, np.float32(255), dtype=np.float32)


def luma(images):
    """Grey level ``(N, H, W, 1)`` of RGB images."""
    return images @ LUMA[:, None]


def _in_chunks(change):
    """`change(pixels, *args)` of a pixelwise change, run on slices of the batch of at most `CHUNK_PIXELS` pixels (at
    least one image)."""

    @functools.wraps(change)
    def chunked(pixels, *args):
        n, h, w, _ = pixels.shape
        step = max(1, CHUNK_PIXELS // (h * w))
        if n <= step:
            return change(pixels, *args)
        out = np.empty_like(pixels)
        for start in range(0, n, step):
            out[start:start + step] = change(pixels[start:start + step], *args)
        return out

    return chunked


@_in_chunks
def shift_value(pixels, offset):
    """Adds ``offset`` to the HSV value (clipped to 1) of uint8 RGB pixels, keeping hue and saturation, like skimage's
    HSV round trip: every channel is scaled by ``v' / v``; black pixels (``v = 0``) become grey ``v'``.

    The result of a channel depends on the channel and ``v`` alone: one 256 × 256 table, the same float32
    arithmetic as scaling ``[0, 1]`` floats, so the bytes equal the float computation's.
    """
    red, green, blue = planes = _planes(pixels)
    table, base = _value_table(float(offset)), np.left_shift(cv2.max(cv2.max(red, green), blue), 8, dtype=np.uint16)
    return _merge([table.take(base | plane) for plane in planes], pixels.shape)


@functools.lru_cache(maxsize=16)
def _value_table(offset):
    levels = _LEVELS.astype(np.float32) / 255
    value, channel = levels[:, None], levels[None, :]
    shifted = np.minimum(value + np.float32(offset), np.float32(1))
    ratio = np.divide(shifted, value, out=np.zeros_like(value), where=value > 0)
    scaled = np.where(value > 0, channel * ratio, shifted)
    return truncate(scaled).reshape(-1)


@_in_chunks
def scale_saturation(pixels, factor, offset):
    """Sets the HSV saturation of uint8 RGB pixels to ``clip(s * factor + offset, 0, 1)``, keeping hue and value.

    Every channel ``c`` becomes ``v - g (v - c)`` with ``g = s' v / (v - m)`` fixed by ``(v, m)``: two tabulated
    numbers per pixel and one multiply-add per channel. Grey pixels have hue 0 (red) in skimage, so a positive offset
    tints them red exactly as the reference generators do: their red keeps ``v``, green and blue take ``v (1 - s')``.
    """
    red, green, blue = planes = _planes(pixels)
    value = cv2.max(cv2.max(red, green), blue)
    minimum = cv2.min(cv2.min(red, green), blue)
    index = np.left_shift(value, 8, dtype=np.uint16) | minimum
    gain_table, base_table = _saturation_tables(float(factor), float(offset))
    gain, base = gain_table.take(index), base_table.take(index)
    result = np.empty(index.shape, np.float32)
    out = []
    for plane in planes:
        np.multiply(plane, gain, out=result, dtype=np.float32)
        result += base
        out.append(result.astype(np.uint8))  # in [0, 255.001]: the cast truncates, as the generators' np.uint8
    new_grey = min(max(offset, 0.0), 1.0)
    if new_grey > 0:
        grey = cv2.compare(value, minimum, cv2.CMP_EQ)
        tint = cv2.LUT(value, np.floor(_LEVELS * (1 - new_grey) + TRUNCATION_SLACK).astype(np.uint8))
        for plane in out[1:]:
            cv2.copyTo(tint, grey, plane)
    return _merge(out, pixels.shape)


def _planes(pixels):
    """The three channels of uint8 RGB pixels ``(N, H, W, 3)`` as contiguous ``(N·H, W)`` planes (OpenCV's SIMD
    split: NumPy reads an interleaved channel with a stride of 3 several times more slowly)."""
    n, h, w, _ = pixels.shape
    return cv2.split(np.ascontiguousarray(pixels).reshape(n * h, w, 3))


def _merge(planes, shape):
    return cv2.merge(planes).reshape(shape)


@functools.lru_cache(maxsize=16)
def _saturation_tables(factor, offset):
    """``g`` and ``v (1 - g) + slack`` over ``(v, m)`` (flat, float32): a channel ``c`` becomes ``g c + v (1 - g)``."""
    value, minimum = np.meshgrid(_LEVELS.astype(np.float64), _LEVELS.astype(np.float64), indexing="ij")
    delta = value - minimum
    saturation = np.divide(delta, value, out=np.zeros_like(value), where=value > 0)
    new_saturation = np.clip(saturation * factor + offset, 0, 1)
    gain = np.divide(new_saturation * value, delta, out=np.zeros_like(value), where=delta > 0)
    return gain.astype(np.float32).reshape(-1), (value * (1 - gain) + TRUNCATION_SLACK).astype(np.float32).reshape(-1)


def truncate(values):
    """``[0, 1]`` floats to uint8 levels like the generators' ``np.uint8(255 * clip(x, 0, 1))``, in place when
    ``values`` is a writeable float array, in three passes: clipping after scaling gives the same levels, and the
    cast of non-negative values truncates."""
    values = np.multiply(values, 255, out=values if values.dtype.kind == "f" and values.flags.writeable else None)
    values += TRUNCATION_SLACK
    np.clip(values, 0, 255, out=values)
    return values.astype(np.uint8)
