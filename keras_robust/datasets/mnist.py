"""The MNIST test set shipped with the package (CC BY-SA 3.0, LeCun, Cortes, Burges)."""

import gzip
import hashlib
from pathlib import Path

import numpy as np

MNIST_DIR = Path(__file__).resolve().parent / "data" / "mnist"
MNIST_TEST_FILES = {
    "images": ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    "labels": ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
}


def read_idx(data):
    """The array of an IDX file (the MNIST format) given its bytes."""
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"Not an IDX file of unsigned bytes. Received header: {data[:4]!r}")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"IDX file truncated: header says {shape}, found {array.size} values.")
    return array.reshape(shape)


def load_mnist_test(directory=None):
    """The 10,000 MNIST test digits as `(images, labels)`.

    Args:
        directory: folder holding `t10k-images-idx3-ubyte.gz` and
            `t10k-labels-idx1-ubyte.gz`; defaults to the copy in the package.
            Their md5 sums are checked.

    Returns:
        `images`, uint8 array (10000, 28, 28, 1) of pixels in [0, 255], and
        `labels`, uint8 array (10000,).

    Example:

    >>> from keras_robust.datasets import load_mnist_test
    >>> images, labels = load_mnist_test()
    >>> images.shape, labels[:3].tolist()
    ((10000, 28, 28, 1), [7, 2, 1])
    """
    directory = MNIST_DIR if directory is None else Path(directory)
    arrays = {}
    for key, (filename, md5) in MNIST_TEST_FILES.items():
        path = directory / filename
        if not path.is_file():
            raise FileNotFoundError(f"MNIST file not found: {path}")
        compressed = path.read_bytes()
        if hashlib.md5(compressed).hexdigest() != md5:
            raise ValueError(f"{path} is not the official MNIST file (md5 differs from {md5}).")
        arrays[key] = read_idx(gzip.decompress(compressed))
    return arrays["images"][..., None], arrays["labels"]
