"""Colour operations on ``[0, 1]`` RGB batches: HSV value and saturation changes, luma."""

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601, as OpenCV's RGB2GRAY


def luma(images):
    """Grey level ``(N, H, W, 1)`` of RGB images."""
    return images @ LUMA[:, None]


def shift_value(images, offset):
    """Adds ``offset`` to the HSV value (clipped to 1), keeping hue and saturation, like skimage's HSV round trip."""
    value = images.max(axis=-1, keepdims=True)
    shifted = np.minimum(value + offset, 1.0)
    # scaling by v'/v keeps hue and saturation; black pixels (v = 0, s = 0) become grey v'
    ratio = np.divide(shifted, value, out=np.zeros_like(value), where=value > 0)
    return np.where(value > 0, images * ratio, shifted)


def scale_saturation(images, factor, offset):
    """Sets the HSV saturation to ``clip(s * factor + offset, 0, 1)``, keeping hue and value.

    Every channel is ``v (1 - s w)`` with ``w = (v - channel) / (v - min)`` fixed by the hue; grey pixels have hue 0
    (red) in skimage, so a positive offset tints them red exactly as the reference generators do.
    """
    value = images.max(axis=-1, keepdims=True)
    delta = value - images.min(axis=-1, keepdims=True)
    safe_value = np.where(value > 0, value, 1)
    saturation = np.where(value > 0, delta / safe_value, 0)
    new_saturation = np.clip(saturation * factor + offset, 0, 1)
    red_hue = np.array([0, 1, 1], images.dtype)
    weights = np.where(delta > 0, (value - images) / np.where(delta > 0, delta, 1), red_hue)
    return value * (1 - new_saturation * weights)
