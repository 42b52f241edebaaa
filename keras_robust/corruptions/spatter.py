"""Spatter: water drops (with OpenCV-style edge shading, rebuilt with numpy/scipy) or mud on RGB batches."""

import numpy as np
from scipy import ndimage

from keras_robust.corruptions import filters

WATER = np.array([175, 238, 238], np.float32) / 255  # pale turquoise
MUD = np.array([63, 42, 20], np.float32) / 255
_TAN_22_5 = np.tan(np.pi / 8)


def spatter(images, params, rng):
    mean, std, sigma, threshold, intensity, mud = params
    n, h, w, _ = images.shape
    liquid = rng.standard_normal((n, h, w, 1), dtype=np.float32) * np.float32(std) + np.float32(mean)
    liquid = filters.gaussian_blur(liquid, sigma)[..., 0]
    liquid[liquid < threshold] = 0
    if mud:
        mask = filters.gaussian_blur((liquid > threshold).astype(np.float32)[..., None], intensity)
        mask[mask < 0.8] = 0
        return images * (1 - mask) + MUD * mask
    layer = np.floor(np.clip(liquid, 0, 1) * 255)
    shade = layer * _drop_shading(layer)
    peak = shade.max(axis=(1, 2), keepdims=True)
    shade = np.divide(shade, peak, out=np.zeros_like(shade), where=peak > 0) * intensity
    return images + shade[..., None] * WATER


def _drop_shading(layer):
    """The generators' relief of the drops: distance to the drop edges, equalized and embossed (all per image)."""
    edges = canny(layer, 50, 150)
    distance = np.minimum(_distance_to(edges), 20)
    distance = np.floor(_box3(distance) + 1e-4)
    distance = equalize_hist(distance.astype(np.uint8)).astype(np.float32)
    emboss = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], np.float32)
    distance = np.clip(ndimage.correlate(distance, emboss[None], mode="mirror"), 0, 255)
    return np.round(_box3(distance))


def _box3(images):
    return ndimage.uniform_filter(images, size=(1, 3, 3), mode="mirror")


def _distance_to(edges):
    """OpenCV's ``distanceTransform(DIST_L2, 5)`` to the edge pixels: the 5×5 chamfer distance (1, 1.4, 2.1969).

    Two raster passes, as OpenCV; within a row the chain along the row is a running minimum, so each row is one
    vectorized step over the batch. Images without edges get 20 (the value the generators truncate to).
    """
    n, h, w = edges.shape
    a, b, c = 1.0, 1.4, 2.1969
    distance = np.full((n, h + 4, w + 4), 1e6)
    distance[:, 2:-2, 2:-2] = np.where(edges, 0.0, 1e6)
    chain = np.arange(w) * a
    for i in range(2, h + 2):
        above, above2 = distance[:, i - 1], distance[:, i - 2]
        row = np.minimum.reduce([
            distance[:, i, 2:-2], above[:, 2:-2] + a, above[:, 1:-3] + b, above[:, 3:-1] + b, above[:, :-4] + c,
            above[:, 4:] + c, above2[:, 1:-3] + c, above2[:, 3:-1] + c,
        ])
        distance[:, i, 2:-2] = np.minimum.accumulate(row - chain, axis=1) + chain
    for i in range(h + 1, 1, -1):
        below, below2 = distance[:, i + 1], distance[:, i + 2]
        row = np.minimum.reduce([
            distance[:, i, 2:-2], below[:, 2:-2] + a, below[:, 1:-3] + b, below[:, 3:-1] + b, below[:, :-4] + c,
            below[:, 4:] + c, below2[:, 1:-3] + c, below2[:, 3:-1] + c,
        ])
        distance[:, i, 2:-2] = (np.minimum.accumulate((row + chain)[:, ::-1], axis=1)[:, ::-1]) - chain
    distance = distance[:, 2:-2, 2:-2]
    return np.where(edges.any(axis=(1, 2), keepdims=True), distance, 20.0)


def equalize_hist(images):
    """OpenCV's ``equalizeHist`` of every uint8 image ``(N, H, W)``."""
    n = len(images)
    flat = images.reshape(n, -1).astype(np.int64)
    hist = np.bincount((flat + 256 * np.arange(n)[:, None]).ravel(), minlength=256 * n).reshape(n, 256)
    first = np.argmax(hist > 0, axis=1)
    first_count = hist[np.arange(n), first]
    total = flat.shape[1]
    scale = 255.0 / np.maximum(total - first_count, 1)
    cumulative = np.cumsum(hist, axis=1) - first_count[:, None]
    lut = np.clip(np.round(cumulative * scale[:, None]), 0, 255)
    lut[np.arange(256)[None, :] <= first[:, None]] = 0
    out = np.take_along_axis(lut, flat, axis=1).reshape(images.shape)
    # a one-valued image keeps its value
    constant = first_count == total
    out[constant] = images[constant]
    return out.astype(np.uint8)


def canny(images, low, high):
    """OpenCV's ``Canny`` (3×3 Sobel, L1 magnitude) of every image ``(N, H, W)`` with values in 0..255."""
    # float32 holds these integer gradients exactly
    padded = np.pad(images.astype(np.float32), ((0, 0), (1, 1), (1, 1)), mode="edge")
    smooth = np.array([1, 2, 1])
    dx = ndimage.correlate1d(ndimage.correlate1d(padded, [-1, 0, 1], axis=2), smooth, axis=1)[:, 1:-1, 1:-1]
    dy = ndimage.correlate1d(ndimage.correlate1d(padded, [-1, 0, 1], axis=1), smooth, axis=2)[:, 1:-1, 1:-1]
    magnitude = np.abs(dx) + np.abs(dy)
    m = np.pad(magnitude, ((0, 0), (1, 1), (1, 1)))

    def neighbour(dr, dc):
        return m[:, 1 + dr : m.shape[1] - 1 + dr, 1 + dc : m.shape[2] - 1 + dc]

    ax, ay = np.abs(dx), np.abs(dy)
    horizontal = ay < ax * _TAN_22_5
    vertical = ay > ax * (2 + _TAN_22_5)  # tan 67.5° = 1 + sqrt(2)
    same_sign = (dx < 0) == (dy < 0)
    keep_h = (magnitude > neighbour(0, -1)) & (magnitude >= neighbour(0, 1))
    keep_v = (magnitude > neighbour(-1, 0)) & (magnitude >= neighbour(1, 0))
    keep_d = np.where(
        same_sign,
        (magnitude > neighbour(-1, -1)) & (magnitude > neighbour(1, 1)),
        (magnitude > neighbour(-1, 1)) & (magnitude > neighbour(1, -1)),
    )
    local_max = np.where(horizontal, keep_h, np.where(vertical, keep_v, keep_d)) & (magnitude > low)
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = True
    labels, count = ndimage.label(local_max, structure=structure)
    strong = np.zeros(count + 1, bool)
    strong[labels[local_max & (magnitude > high)]] = True
    strong[0] = False
    return strong[labels]
