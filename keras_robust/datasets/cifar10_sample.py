"""A sample of 1,000 CIFAR-10 test images shipped in the package (100 per class, JPEG copy)."""

from pathlib import Path

import numpy as np

from keras_robust.datasets.cifar10_jpeg import CIFAR10_CLASSES

SAMPLE_FILE = Path(__file__).resolve().parent / "data" / "cifar10_sample" / "cifar10_sample.npz"


def load_cifar10_sample():
    """The embedded sample of CIFAR-10 test images, 100 of each class.

    1,000 images of the CIFAR-10 test set (Krizhevsky, 2009), drawn at random
    (seed 0, 100 per class) by `scripts/make_cifar10_sample.py` from a JPEG
    re-encoding of CIFAR-10 at about quality 75; the classes take turns
    (labels 0, 1, ..., 9, 0, 1, ...), so any first 10*k images hold k images
    of every class.
    They are not the lossless originals: clean accuracy of the published
    CIFAR-10 models is about 10 points lower on them than on the real test
    set, so numbers measured on this sample are not comparable with published
    ones. It needs no download and is the data of the default
    `robust-cli benchmark`.

    Returns:
        `(images, labels, class_names)`: uint8 array (1000, 32, 32, 3) of
        pixels in [0, 255], int64 array (1000,) of labels in 0..9, and the
        tuple of the 10 CIFAR-10 class names in label order.

    Example:

    >>> from keras_robust.datasets import load_cifar10_sample
    >>> images, labels, class_names = load_cifar10_sample()
    >>> images.shape, images.dtype.name, labels.dtype.name
    ((1000, 32, 32, 3), 'uint8', 'int64')
    >>> import numpy as np
    >>> np.bincount(labels).tolist(), class_names[:2]
    ([100, 100, 100, 100, 100, 100, 100, 100, 100, 100], ('airplane', 'automobile'))
    """
    if not SAMPLE_FILE.is_file():
        raise FileNotFoundError(
            f"The embedded CIFAR-10 sample is missing from the installed package: {SAMPLE_FILE}. "
            "Reinstall keras_robust."
        )
    with np.load(SAMPLE_FILE, allow_pickle=False) as arrays:
        images, labels = arrays["images"], arrays["labels"].astype("int64")
    return images, labels, CIFAR10_CLASSES
