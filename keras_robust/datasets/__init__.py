"""Datasets: the embedded MNIST test set and CIFAR-10 sample, loaders of local or tfds image sets, CIFAR-10-C."""

from keras_robust.datasets.cifar10_jpeg import CIFAR10_CLASSES, load_cifar10_jpeg
from keras_robust.datasets.cifar10_sample import load_cifar10_sample
from keras_robust.datasets.image_source import LabeledImages, load_images
from keras_robust.datasets.mnist import load_mnist_test
from keras_robust.datasets.released import ReleasedCorruptions, released_corruptions

__all__ = [
    "CIFAR10_CLASSES",
    "LabeledImages",
    "load_cifar10_jpeg",
    "load_cifar10_sample",
    "load_images",
    "load_mnist_test",
    "ReleasedCorruptions",
    "released_corruptions",
]
