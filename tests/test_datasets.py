"""The embedded CIFAR-10 sample and the released-corruption data source."""

import numpy as np
import pytest

from keras_robust.datasets import CIFAR10_CLASSES, load_cifar10_jpeg, load_cifar10_sample
from keras_robust.datasets.cifar10_sample import SAMPLE_FILE


def test_sample_is_balanced_uint8_cifar():
    images, labels, names = load_cifar10_sample()
    assert images.shape == (1000, 32, 32, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and names == CIFAR10_CLASSES
    assert np.bincount(labels, minlength=10).tolist() == [100] * 10
    # real photographs, not a constant fill: every image has contrast and the images differ
    assert images.reshape(1000, -1).std(axis=1).min() > 5
    assert len({image.tobytes() for image in images}) == 1000


def test_sample_ships_its_origin():
    readme = (SAMPLE_FILE.parent / "README.md").read_text()
    assert "Krizhevsky" in readme and "JPEG" in readme and "quality 75" in readme


def test_sample_images_are_the_test_images_they_name(shared_data):
    with np.load(SAMPLE_FILE) as arrays:
        index = arrays["test_index"]
    images, labels, _ = load_cifar10_jpeg(shared_data / "cifar10-jpeg" / "test.tar.gz")
    sample, sample_labels, _ = load_cifar10_sample()
    np.testing.assert_array_equal(sample, images[index])
    np.testing.assert_array_equal(sample_labels, labels[index])
