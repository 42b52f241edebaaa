"""Spatter: water drops (with the generators' OpenCV edge shading) or mud on RGB batches."""

import cv2
import numpy as np

from keras_robust.corruptions import filters

WATER = np.array([175, 238, 238], np.float32) / 255  # pale turquoise
MUD = np.array([63, 42, 20], np.float32) / 255
_EMBOSS = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], np.float32)


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
    """The generators' relief of the drops, with their OpenCV calls, one image at a time: distance to the drop edges
    (``Canny``, ``distanceTransform``), equalized (``equalizeHist``) and embossed (``filter2D``), box-blurred."""
    out = np.empty(layer.shape, np.float32)
    for image, result in zip(layer.astype(np.uint8), out):
        distance = np.minimum(_distance_to(cv2.Canny(image, 50, 150)[None] > 0)[0], 20)
        # the generators truncate with astype(np.uint8); the slack keeps a mean of equal values whole
        distance = (cv2.blur(distance, (3, 3)) + np.float32(1e-4)).astype(np.uint8)
        embossed = cv2.filter2D(cv2.equalizeHist(distance), cv2.CV_8U, _EMBOSS)  # saturated to 0..255
        result[...] = cv2.blur(embossed, (3, 3))  # rounded to uint8, as the generators
    return out


def _distance_to(edges):
    """OpenCV's ``distanceTransform(DIST_L2, 5)`` to the edge pixels of every image ``(N, H, W)`` (bool): the 5×5
    chamfer distance (steps 1, 1.4, 2.1969). Images without edges get large values (truncated to 20 by the caller)."""
    return np.stack([cv2.distanceTransform(np.where(image, 0, 255).astype(np.uint8), cv2.DIST_L2, 5) for image in edges])
