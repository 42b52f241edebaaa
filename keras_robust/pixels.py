"""Pixel values: the one conversion of raw values to uint8."""

import numpy as np


def to_uint8(values):
    """Raw pixel values (0–255 scale) as uint8: rounded half to even and clipped to [0, 255]; uint8 as it is.

    Example:

    >>> import numpy as np
    >>> from keras_robust.pixels import to_uint8
    >>> to_uint8(np.array([-3.0, 0.5, 1.5, 254.6, 300.0])).tolist()
    [0, 0, 2, 255, 255]
    """
    values = np.asarray(values)
    return values if values.dtype == np.uint8 else np.clip(np.round(values), 0, 255).astype(np.uint8)
