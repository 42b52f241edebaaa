"""The datasets shipped inside the package, by name, with the splits every command reads: `SHIPPED`, `load_shipped`.

Both are test images (CIFAR-10's and MNIST's), so their splits are: `test`, every shipped image (what `benchmark`
evaluates); `train` and `validation`, one fixed division of them (80 % and 20 %, drawn with seed 0), for a quick
training run such as `robust-cli train --dataset mnist` that validates on images it did not train on.
"""

import numpy as np

SPLITS = ("test", "train", "validation")
TRAIN_SHARE = 0.8


def _cifar10_sample():
    from keras_robust.datasets.cifar10_sample import load_cifar10_sample

    images, labels, class_names = load_cifar10_sample()
    return images, labels, list(class_names)


def _mnist():
    from keras_robust.datasets.mnist import load_mnist_test

    images, labels = load_mnist_test()
    return images, labels.astype("int64"), [str(digit) for digit in range(10)]


SHIPPED = {
    "cifar10_sample": _cifar10_sample,  # 1,000 CIFAR-10 test images, 100 per class, from the JPEG copy
    "mnist": _mnist,  # the 10,000 MNIST test digits
}


def load_shipped(name, split="test"):
    """`(images, labels, class_names)` of the shipped dataset `name`, split `split` (one of `SPLITS`).

    Example:

    >>> from keras_robust.datasets.shipped import load_shipped
    >>> images, labels, _ = load_shipped("cifar10_sample", "train")
    >>> images.shape, len(load_shipped("cifar10_sample", "validation")[1])
    ((800, 32, 32, 3), 200)
    """
    if name not in SHIPPED:
        raise ValueError(f"Unknown shipped dataset. Received: {name!r}; accepted: {', '.join(SHIPPED)}.")
    if split not in SPLITS:
        raise ValueError(
            f"The shipped dataset {name} has the splits {', '.join(SPLITS)} ('test' is every shipped image; 'train' "
            f"and 'validation' divide them 80/20). Received: split={split!r}"
        )
    images, labels, class_names = SHIPPED[name]()
    if split != "test":
        order = np.random.default_rng(0).permutation(len(labels))
        cut = int(round(TRAIN_SHARE * len(labels)))
        keep = np.sort(order[:cut] if split == "train" else order[cut:])
        images, labels = images[keep], labels[keep]
    return images, labels, class_names
