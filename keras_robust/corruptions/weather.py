"""Weather corruptions on ``[0, 1]`` float RGB batches: snow, frost, fog; brightness on uint8 (spatter: ``spatter.py``)."""

import functools
from importlib import resources

import numpy as np

from keras_robust.corruptions import color, filters, geometry

# the generators draw np.random.randint(5): the sixth texture of their list is never used
FROST_TEXTURES = ("frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg")


def brightness(pixels, offset, rng):
    """HSV value + ``offset`` of uint8 RGB pixels (uint8 out)."""
    return color.shift_value(pixels, offset)


def snow(images, params, rng):
    mean, std, zoom, threshold, radius, sigma, blend = params
    n, h, w, _ = images.shape
    flakes = rng.normal(mean, std, size=(n, h, w, 1)).astype(np.float32)
    flakes = geometry.clipped_zoom(flakes, zoom)
    flakes[flakes < threshold] = 0
    # the reference passes the layer through an 8-bit PNG to ImageMagick and back
    flakes = np.floor(np.clip(flakes, 0, 1) * 255 + 1e-4)
    angles = rng.uniform(-135, -45, size=n)
    flakes = np.round(filters.motion_blur(flakes, radius, sigma, angles)) / 255
    lifted = np.maximum(images, color.luma(images) * 1.5 + 0.5)
    images = blend * images + (1 - blend) * lifted
    return images + flakes + flakes[:, ::-1, ::-1]


def fog(images, params, rng):
    strength, decay = params
    n, h, w, _ = images.shape
    size = 1 << max(int(np.ceil(np.log2(max(h, w)))), 0)
    haze = plasma_fractal(n, size, decay, rng)[:, :h, :w, None]
    peak = images.max(axis=(1, 2, 3), keepdims=True)
    return (images + strength * haze) * peak / (peak + strength)


def plasma_fractal(n, size, decay, rng):
    """``n`` diamond-square height maps ``(size, size)`` in ``[0, 1]`` (size a power of two), as the generators."""
    maps = np.zeros((n, size, size), np.float32)
    step = size
    wibble = 100.0
    while step >= 2:
        half = step // 2
        corners = maps[:, 0:size:step, 0:size:step]
        square = corners + np.roll(corners, -1, axis=1)
        square = square + np.roll(square, -1, axis=2)
        maps[:, half:size:step, half:size:step] = square / 4 + wibble * rng.uniform(-wibble, wibble, square.shape)
        centres = maps[:, half:size:step, half:size:step]
        corners = maps[:, 0:size:step, 0:size:step]
        vertical = centres + np.roll(centres, 1, axis=1) + corners + np.roll(corners, -1, axis=2)
        maps[:, 0:size:step, half:size:step] = vertical / 4 + wibble * rng.uniform(-wibble, wibble, vertical.shape)
        horizontal = centres + np.roll(centres, 1, axis=2) + corners + np.roll(corners, -1, axis=1)
        maps[:, half:size:step, 0:size:step] = horizontal / 4 + wibble * rng.uniform(-wibble, wibble, horizontal.shape)
        step //= 2
        wibble /= decay
    maps -= maps.min(axis=(1, 2), keepdims=True)
    return maps / maps.max(axis=(1, 2), keepdims=True)


def frost(images, params, rng, *, texture_scale=1.0):
    """Blends each image with a random crop of one of the five frost textures the generators use."""
    image_weight, frost_weight = params
    n, h, w, _ = images.shape
    choice = rng.integers(len(FROST_TEXTURES), size=n)
    out = np.empty_like(images)
    for index in range(len(FROST_TEXTURES)):
        members = np.flatnonzero(choice == index)
        if not len(members):
            continue
        texture = frost_texture(index, texture_scale, h, w)
        tops = rng.integers(0, texture.shape[0] - h, size=len(members))
        lefts = rng.integers(0, texture.shape[1] - w, size=len(members))
        windows = np.lib.stride_tricks.sliding_window_view(texture, (h, w), axis=(0, 1))
        crops = windows[tops, lefts].transpose(0, 2, 3, 1)
        out[members] = image_weight * images[members] + frost_weight * crops
    return out


@functools.lru_cache(maxsize=32)
def frost_texture(index, scale, min_height, min_width):
    """Frost texture ``index`` in ``[0, 1]``, shrunk by ``scale``, and enlarged if smaller than ``min_height + 1``
    by ``min_width + 1`` (a crop needs one spare row and column)."""
    texture = _read_texture(FROST_TEXTURES[index])
    if scale != 1.0:
        # cv2.resize(fx=0.2) samples pixel centres (x + 0.5) / 0.2 - 0.5: every fifth pixel from the third
        stride = int(round(1 / scale))
        rows, cols = round(texture.shape[0] * scale), round(texture.shape[1] * scale)
        texture = texture[stride // 2 :: stride, stride // 2 :: stride][:rows, :cols]
    grow = max((min_height + 1) / texture.shape[0], (min_width + 1) / texture.shape[1])
    if grow > 1:
        rows, cols = int(np.ceil(texture.shape[0] * grow)), int(np.ceil(texture.shape[1] * grow))
        texture = geometry.apply_matrices(
            texture[None], geometry.linear_resize_matrix(texture.shape[0], rows), geometry.linear_resize_matrix(texture.shape[1], cols)
        )[0]
    return np.ascontiguousarray(texture, dtype=np.float32)


def _read_texture(name):
    import tensorflow as tf

    data = resources.files("keras_robust.corruptions").joinpath("data", name).read_bytes()
    if name.endswith(".png"):
        pixels = tf.io.decode_png(data, channels=3)
    else:
        pixels = tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE")
    return pixels.numpy().astype(np.float32) / 255
