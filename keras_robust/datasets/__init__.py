"""Datasets: the embedded MNIST test set and loaders of local or tfds image sets."""

from keras_robust.datasets.image_source import LabeledImages, load_images
from keras_robust.datasets.mnist import load_mnist_test

__all__ = ["LabeledImages", "load_images", "load_mnist_test"]
