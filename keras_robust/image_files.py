"""Read image files (JPEG, PNG, BMP, GIF) into uint8 batches for a model."""

from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


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


def read_image(path, shape):
    """One image file as a uint8 array of the given `shape`.

    Images are converted to the number of channels asked for (gray images
    repeated over 3 channels, colour images turned gray for 1), animated GIFs
    give their first frame. An image of another size is resized with bilinear, antialiased
    interpolation and rounded back to uint8.

    Args:
        path: an image file.
        shape: `(height, width, channels)` the model takes, channels 1 or 3.

    Returns:
        `(image, resized)`: the uint8 array and whether it was resized.
    """
    import tensorflow as tf

    try:
        image = tf.io.decode_image(
            tf.io.read_file(str(path)), channels=int(shape[-1]), expand_animations=False
        )
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError):
        raise ValueError(
            f"Cannot decode {path} as an image. Accepted: JPEG, PNG, BMP, GIF."
        ) from None
    size = tuple(int(s) for s in shape[:2])
    if tuple(image.shape[:2]) == size:
        return image.numpy(), False
    resized = tf.image.resize(image, size, method="bilinear", antialias=True)
    return np.clip(np.round(resized.numpy()), 0, 255).astype("uint8"), True
