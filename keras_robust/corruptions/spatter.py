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
        return _blend(images, 1 - mask[..., 0], MUD, mask[..., 0])
    layer = np.floor(np.clip(liquid, 0, 1) * 255)
    shade = layer * _drop_shading(layer)
    peak = shade.max(axis=(1, 2), keepdims=True)
    shade = np.divide(shade, peak, out=np.zeros_like(shade), where=peak > 0) * intensity
    return _blend(images, None, WATER, shade)


def _blend(images, keep, colour, weight):
    """``images * keep + colour * weight`` (``keep`` ``None``: 1), channel by channel: the same float32 operations as
    broadcasting the ``(N, H, W, 1)`` maps over the 3 channels, which NumPy runs several times more slowly."""
    out = np.empty(images.shape, np.float32)
    for channel in range(images.shape[-1]):
        plane = images[..., channel] if keep is None else images[..., channel] * keep
        np.add(plane, weight * colour[channel], out=out[..., channel])
    return out


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
    # rows first, so that every row of the batch is one contiguous block; two rows and columns of margin
    distance = np.full((h + 4, n, w + 4), 1e6)
    distance[2:-2, :, 2:-2] = np.where(edges.transpose(1, 0, 2), 0.0, 1e6)
    chain = np.arange(w) * a
    for rows, sign in ((range(2, h + 2), 1), (range(h + 1, 1, -1), -1)):
        for i in rows:
            near, far, row = distance[i - sign], distance[i - 2 * sign], distance[i, :, 2:-2]
            # the mask's cells in the two rows already done: straight (a), diagonal (b), knight's moves (c)
            np.minimum(row, near[:, 2:-2] + a, out=row)
            np.minimum(row, np.minimum(near[:, 1:-3], near[:, 3:-1]) + b, out=row)
            knight = np.minimum(np.minimum(near[:, :-4], near[:, 4:]), np.minimum(far[:, 1:-3], far[:, 3:-1]))
            np.minimum(row, knight + c, out=row)
            if sign == 1:
                row[:] = np.minimum.accumulate(row - chain, axis=1) + chain
            else:
                row[:] = np.minimum.accumulate((row + chain)[:, ::-1], axis=1)[:, ::-1] - chain
    distance = distance[2:-2, :, 2:-2].transpose(1, 0, 2)
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
    """OpenCV's ``Canny`` (3×3 Sobel, L1 magnitude) of every image ``(N, H, W)`` with values in 0..255.

    Non-maximum suppression looks only at the pixels above ``low``, a small part of a drop layer.
    """
    # float32 holds these integer gradients exactly
    padded = np.pad(images.astype(np.float32), ((0, 0), (1, 1), (1, 1)), mode="edge")
    along_cols = padded[:, :, 2:] - padded[:, :, :-2]
    dx = along_cols[:, :-2] + 2 * along_cols[:, 1:-1] + along_cols[:, 2:]
    along_rows = padded[:, 2:] - padded[:, :-2]
    dy = along_rows[:, :, :-2] + 2 * along_rows[:, :, 1:-1] + along_rows[:, :, 2:]
    n, h, w = images.shape
    magnitude = np.zeros((n, h + 2, w + 2), np.float32)
    magnitude[:, 1:-1, 1:-1] = np.abs(dx) + np.abs(dy)
    where = np.flatnonzero(magnitude > low)  # flat indices into the zero-bordered magnitude
    image, rest = np.divmod(where, (h + 2) * (w + 2))
    row, col = np.divmod(rest, w + 2)
    inner = (image * h + row - 1) * w + col - 1  # the same pixels in the (N, H, W) gradients
    gx, gy = dx.reshape(-1)[inner], dy.reshape(-1)[inner]
    ax, ay = np.abs(gx), np.abs(gy)
    flat = magnitude.reshape(-1)
    centre = flat[where]
    stride = w + 2
    # the neighbour pair across the edge: horizontal, vertical or one of the diagonals
    step = np.where(
        ay < ax * _TAN_22_5, 1, np.where(ay > ax * (2 + _TAN_22_5), stride, np.where((gx < 0) == (gy < 0), stride + 1, stride - 1))
    )
    before, after = flat[where - step], flat[where + step]
    # OpenCV keeps a horizontal or vertical maximum that equals its right or lower neighbour, not a diagonal one
    straight = (step == 1) | (step == stride)
    keep = (centre > before) & np.where(straight, centre >= after, centre > after)
    local_max = np.zeros(n * h * w, bool)
    local_max[inner[keep]] = True
    local_max = local_max.reshape(n, h, w)
    strong_seeds = inner[keep & (centre > high)]
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = True
    labels, count = ndimage.label(local_max, structure=structure)
    strong = np.zeros(count + 1, bool)
    strong[labels.reshape(-1)[strong_seeds]] = True
    strong[0] = False
    return strong[labels]
