"""load_cifar10_jpeg on the real JPEG copy and on small tarballs."""

import io
import tarfile

import numpy as np
import pytest
from PIL import Image

from keras_robust.datasets import CIFAR10_CLASSES, load_cifar10_jpeg


def write_tarball(path, classes, split="test"):
    with tarfile.open(path, "w:gz") as archive:
        for label, name in enumerate(classes):
            buffer = io.BytesIO()
            Image.fromarray(np.full((32, 32, 3), 20 * label, "uint8")).save(buffer, "JPEG")
            info = tarfile.TarInfo(f"{split}/{name}/0000.jpg")
            info.size = buffer.tell()
            buffer.seek(0)
            archive.addfile(info, buffer)


def test_reads_the_real_test_set(shared_data):
    images, labels, names = load_cifar10_jpeg(shared_data / "cifar10-jpeg", limit=30)
    assert images.shape == (30, 32, 32, 3) and images.dtype == np.uint8
    assert names == CIFAR10_CLASSES and set(labels) <= set(range(10)) and len(set(labels)) > 5


def test_labels_follow_the_cifar10_order(tmp_path):
    path = tmp_path / "test.tar.gz"
    write_tarball(path, CIFAR10_CLASSES[::-1])
    images, labels, _ = load_cifar10_jpeg(path)
    assert list(labels) == list(range(10))
    assert abs(int(images[3].mean()) - 20 * (9 - 3)) <= 2  # "cat" was written 4th from the end


def test_bad_input_is_named(tmp_path):
    with pytest.raises(ValueError, match="Received: split='val'"):
        load_cifar10_jpeg(tmp_path, split="val")
    with pytest.raises(FileNotFoundError, match="test.tar.gz"):
        load_cifar10_jpeg(tmp_path)
    write_tarball(tmp_path / "test.tar.gz", ["cats", "dogs"])
    with pytest.raises(ValueError, match="is not CIFAR-10"):
        load_cifar10_jpeg(tmp_path)
