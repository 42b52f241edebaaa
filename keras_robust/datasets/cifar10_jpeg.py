"""Read the JPEG copy of CIFAR-10 (`test.tar.gz`, `train.tar.gz`)."""

from pathlib import Path

from keras_robust.datasets.image_source import load_images
from keras_robust.validation import check_choice

SPLITS = ("test", "train")
# The CIFAR-10 label order (batches.meta of the original release), which is
# also the sorted order of the class folders.
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)


def load_cifar10_jpeg(path, split="test", limit=None, seed=0):
    """Images and labels of a CIFAR-10 JPEG tarball, in CIFAR-10 label order.

    The tarball holds `<split>/<class name>/NNNN.jpg` members: 32x32 RGB JPEG
    re-encodings of CIFAR-10 at about quality 75, not the lossless
    originals, so accuracies measured on them must say so. A thin check on
    top of `load_images`: the class folders must be exactly the ten CIFAR-10
    classes, which makes the labels the usual CIFAR-10 labels.

    Args:
        path: a `.tar.gz` file, or a folder holding `<split>.tar.gz`.
        split: `"test"` or `"train"`, the folder read inside the tarball.
        limit: optional int, keep this many images drawn at random with
            `seed` (kept in file order), as in `load_images`.
        seed: int, seed of that draw.

    Returns:
        `(images, labels, class_names)`: uint8 array (N, 32, 32, 3), int64
        array (N,), tuple of the 10 class names.

    Example:

    >>> from keras_robust.datasets import load_cifar10_jpeg
    >>> images, labels, names = load_cifar10_jpeg(
    ...     "../shared/data/cifar10-jpeg/test.tar.gz", limit=20)  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((20, 32, 32, 3), dtype('uint8'))
    """
    check_choice("split", split, SPLITS)
    path = Path(path)
    tarball = path / f"{split}.tar.gz" if path.is_dir() else path
    if not tarball.is_file():
        raise FileNotFoundError(
            "CIFAR-10 JPEG tarball not found (expected a file such as "
            f"../shared/data/cifar10-jpeg/{split}.tar.gz). Received: path={path}"
        )
    data = load_images(tarball, split=split, limit=limit, seed=seed)
    if tuple(data.class_names) != CIFAR10_CLASSES:
        raise ValueError(
            f"{tarball} is not CIFAR-10: its class folders are {list(data.class_names)}, "
            f"expected {list(CIFAR10_CLASSES)}."
        )
    return data.images, data.labels, CIFAR10_CLASSES
