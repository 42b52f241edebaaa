"""Image files: which files are images, and one file decoded to uint8 pixels (by Pillow, a dependency)."""

import os
from pathlib import Path

import numpy as np

from keras_robust.pixels import to_uint8
from keras_robust.validation import check_choice

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".tif", ".tiff", ".webp")
GREY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R 601-2 luma
_PILLOW_GREY_MODES = ("1", "L", "I;16")


def list_images(paths):
    """Image files named by `paths`: files as given, folders searched recursively, sorted.

    Args:
        paths: iterable of file or folder paths.

    Returns:
        list of `Path`.
    """
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"No image file or folder at {path}.")
    if not found:
        raise ValueError(
            f"No image files found. Accepted: {', '.join(IMAGE_SUFFIXES)} files or "
            f"folders holding them. Received: {', '.join(map(str, paths))}"
        )
    return found


def decode_image_file(file, channels=None, name=None):
    """One image file as a uint8 array (H, W, C).

    Animated GIFs give their first frame; alpha channels are dropped.

    Args:
        file: a path or a binary file object, read from where it stands.
        channels: `None` keeps grey images 1-channel and makes every other
            image RGB; 1 or 3 converts to that many channels (see
            `to_channels`).
        name: what error messages call the file, and whose suffix names its
            format, when `file` is a file object without a name.

    Returns:
        uint8 array (H, W, C).

    Raises:
        ValueError: the file is not an image of an accepted format.

    Example:

    >>> import io, numpy as np, tensorflow as tf
    >>> png = tf.io.encode_png(np.zeros((4, 6, 1), "uint8")).numpy()
    >>> decode_image_file(io.BytesIO(png)).shape, decode_image_file(io.BytesIO(png), channels=3).shape
    ((4, 6, 1), (4, 6, 3))
    """
    check_choice("channels", channels, (None, 1, 3))
    is_path = isinstance(file, (str, os.PathLike))
    name = str(file) if is_path else name or getattr(file, "name", None) or "an image file object"
    return to_channels(_decode(file, name), channels)


def _decode(file, name):
    from PIL import Image as pillow_image

    try:
        with pillow_image.open(file) as image:
            grey = image.mode in _PILLOW_GREY_MODES
            return np.asarray(image.convert("L" if grey else "RGB"))
    except FileNotFoundError:
        raise
    except pillow_image.DecompressionBombError as error:  # a small file claiming a huge image
        raise ValueError(
            f"Cannot decode {name}: the image is too large ({error}). Accepted: images of at most "
            f"{pillow_image.MAX_IMAGE_PIXELS * 2} pixels (Pillow's decompression-bomb limit)."
        ) from None
    except (OSError, SyntaxError, ValueError) as error:  # how Pillow says a file is no image or is damaged
        raise ValueError(
            f"Cannot decode {name} as an image ({error}). Accepted: {', '.join(IMAGE_SUFFIXES)} files."
        ) from None


def to_channels(image, channels=None):
    """`image` (H, W) or (H, W, C) as an array (H, W, channels).

    Grey images are repeated over 3 channels; colour images become grey with
    the ITU-R 601-2 weights `GREY_WEIGHTS`, rounded; alpha channels are dropped.

    Args:
        image: array (H, W) or (H, W, C), C in 1..4.
        channels: 1, 3, or `None` to keep the channels.

    Returns:
        array of the dtype of `image`, 3-D.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if channels is None or image.shape[-1] == channels:
        return image
    if image.shape[-1] == 1:
        return np.repeat(image, channels, axis=-1)
    if channels == 1:
        return np.round(image[..., :3] @ GREY_WEIGHTS)[..., None].astype(image.dtype)
    return image[..., :channels]


def resize_image(image, size):
    """`image` (H, W, C) resized to `size` (height, width), bilinear and antialiased, rounded to uint8."""
    import tensorflow as tf

    resized = tf.image.resize(image, size, method="bilinear", antialias=True)
    return to_uint8(resized.numpy())


def read_image(path, shape):
    """One image file as a uint8 array of the given `shape`.

    Images are converted to the number of channels asked for (grey images
    repeated over 3 channels, colour images turned grey for 1), animated GIFs
    give their first frame. An image of another size is resized with
    `resize_image`.

    Args:
        path: an image file.
        shape: `(height, width, channels)` the model takes, channels 1 or 3.

    Returns:
        `(image, resized)`: the uint8 array and whether it was resized.
    """
    image = decode_image_file(path, channels=int(shape[-1]))
    size = tuple(int(s) for s in shape[:2])
    if image.shape[:2] == size:
        return image, False
    return resize_image(image, size), True
