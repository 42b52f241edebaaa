"""Digital corruptions: contrast, elastic transform (``[0, 1]`` floats), saturate, pixelate and JPEG (uint8)."""

import cv2
import numpy as np

from keras_robust.corruptions import color, filters, geometry


def contrast(pixels, factor, rng):
    """``(x - mean) · factor + mean`` per image and channel on [0, 1] values, truncated to uint8.

    The map is affine per image and channel, so it is tabulated for the 256 levels and applied with OpenCV's
    ``LUT``, one table per channel; the means divide OpenCV's exact integer sums, as NumPy's float64 mean does.
    """
    _, h, w, c = pixels.shape
    means = np.array([cv2.sumElems(image)[:c] for image in pixels]) / (h * w) / 255  # (N, C)
    levels = np.arange(256)[None, :, None] / 255
    means = means[:, None, :]
    tables = np.floor(np.clip((levels - means) * factor + means, 0, 1) * 255 + 1e-3).astype(np.uint8)  # (N, 256, C)
    out = np.empty_like(pixels)
    for image, table, result in zip(pixels, tables, out):
        result[...] = cv2.LUT(image, table[None]).reshape(result.shape)
    return out


def saturate(pixels, params, rng):
    """HSV saturation ``s * factor + offset`` of uint8 RGB pixels (uint8 out)."""
    return color.scale_saturation(pixels, *params)


def pixelate(pixels, factor, rng):
    """Shrinks by ``factor`` and enlarges back, both with Pillow's box filter (uint8 in, uint8 out).

    Shrinking runs Pillow's C resampler; enlarging is a gather of pixels (`geometry.pil_box_resize`).
    """
    from PIL import Image

    _, h, w, _ = pixels.shape
    small_h, small_w = max(int(h * factor), 1), max(int(w * factor), 1)
    small = _pil_box_shrink(pixels, small_h, small_w, Image)
    return geometry.pil_box_resize(small, h, w)


def _pil_box_shrink(pixels, height, width, Image):
    """Pillow's ``resize((width, height), Image.BOX)`` of every image in two Pillow calls for the whole batch.

    Pillow resizes the rows first, then the columns, rounding to uint8 in between, and skips a pass whose side
    does not change: the images stacked vertically take the row pass, side by side the column pass, each image
    exactly as on its own, without a Python call per image.
    """
    n, h, w, c = pixels.shape

    def resize(array, size):  # array (rows, columns, c); size (columns, rows)
        picture = Image.fromarray(array[..., 0] if c == 1 else array)
        return np.asarray(picture.resize(size, Image.BOX)).reshape(size[1], size[0], c)

    narrow = resize(np.ascontiguousarray(pixels).reshape(n * h, w, c), (width, n * h)).reshape(n, h, width, c)
    side_by_side = np.ascontiguousarray(narrow.transpose(1, 0, 2, 3)).reshape(h, n * width, c)
    return np.ascontiguousarray(resize(side_by_side, (n * width, height)).reshape(height, n, width, c).transpose(1, 0, 2, 3))


def jpeg_compression(pixels, quality, rng):
    """Encodes and decodes every image as JPEG at ``quality`` with OpenCV's libjpeg (uint8 in and out): the same
    bytes as the generators' Pillow save and open (4:2:0 chroma, accurate integer IDCT), with less work per call."""
    out = np.empty_like(pixels)
    colour = pixels.shape[-1] == 3
    options = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    for image, result in zip(pixels, out):
        encoded = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if colour else image, options)[1]
        if colour:
            result[...] = cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        else:
            result[...] = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)[..., None]
    return out


def elastic_transform(images, params, rng):
    """A random affine warp then a smooth random displacement, both with OpenCV as in the generators.

    The warp is the generators' own ``cv2.warpAffine`` (reflect-101 borders); the displacement, which the
    generators sample with ``scipy.ndimage.map_coordinates`` (bilinear, half-sample symmetric borders), runs on
    ``cv2.remap`` (bilinear, ``BORDER_REFLECT``): OpenCV rounds the coordinates to 1/32 pixel, as in the warp.
    """
    alpha, sigma, jitter = (value * min(images.shape[1:3]) for value in params)
    n, h, w, _ = images.shape
    centre = np.array([h // 2, w // 2], np.float32)
    side = min(h, w) // 3
    # the generators pass (row, column) pairs where OpenCV expects (x, y); kept for square images to match
    source = np.array([centre + side, [centre[0] + side, centre[1] - side], centre - side], np.float32)
    target = source + rng.uniform(-jitter, jitter, size=(n, 3, 2)).astype(np.float32)
    out = np.empty(images.shape, np.float32)
    for image, result, points in zip(images, out, target):
        warp = cv2.getAffineTransform(source, points)
        result[...] = cv2.warpAffine(image, warp, (w, h), borderMode=cv2.BORDER_REFLECT_101).reshape(result.shape)
    if alpha == 0:
        return out
    shifts = rng.random((2 * n, h, w), dtype=np.float32) * 2 - 1
    shifts = filters.gaussian_blur(shifts, sigma, mode="reflect", truncate=3) * np.float32(alpha)
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
    for index, image in enumerate(out):
        moved = cv2.remap(image, cols + shifts[index], rows + shifts[n + index], cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)
        image[...] = moved.reshape(image.shape)
    return out
