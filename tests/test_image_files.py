"""One image-file decoder (Pillow): every accepted format, grey kept grey, damaged files named."""

import io
import tarfile

import numpy as np
import pytest
from PIL import Image
import tensorflow as tf

from keras_robust.datasets import load_images
from keras_robust.image_files import IMAGE_SUFFIXES, decode_image_file, read_image
from keras_robust.transfer import FolderSource

RNG = np.random.default_rng(0)


def cifar_jpegs(shared_data, count):
    found = []
    with tarfile.open(shared_data / "cifar10-jpeg" / "test.tar.gz") as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".jpg"):
                found.append((member.name, archive.extractfile(member).read()))
                if len(found) == count:
                    return found
    return found


@pytest.mark.parametrize("channels", [None, 1, 3])
def test_real_jpegs_decode_as_pillow_decodes_them(shared_data, channels):
    jpegs = cifar_jpegs(shared_data, 40)
    assert len(jpegs) == 40
    for name, data in jpegs:
        pixels = decode_image_file(io.BytesIO(data), channels=channels, name=name)
        assert pixels.dtype == np.uint8 and pixels.shape == (32, 32, channels or 3)
        if channels != 1:
            np.testing.assert_array_equal(pixels, np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


WRITTEN = [(".png", mode) for mode in ("RGB", "L", "RGBA", "LA", "P")] + [
    (suffix, mode) for suffix in (".gif", ".bmp", ".jpg", ".tif", ".webp", ".ppm") for mode in ("RGB", "L")
]


@pytest.mark.parametrize("suffix, mode", WRITTEN)
def test_written_files_decode_with_their_channels(tmp_path, suffix, mode):
    assert suffix in IMAGE_SUFFIXES
    pixels = RNG.integers(0, 256, (13, 9, 4), dtype=np.uint8)
    path = tmp_path / f"picture{suffix}"
    Image.fromarray(pixels if "A" in mode else pixels[..., :3]).convert(mode).save(path)
    grey_file = mode == "L" and suffix not in (".gif", ".webp")  # a GIF holds a palette, WebP has no grey: RGB
    for channels in (None, 1, 3):
        decoded = decode_image_file(path, channels=channels)
        assert decoded.dtype == np.uint8 and decoded.shape == (13, 9, channels or (1 if grey_file else 3))
    if suffix in (".png", ".bmp", ".tif", ".ppm") and mode == "RGB":  # lossless
        np.testing.assert_array_equal(decode_image_file(path), pixels[..., :3])
        grey = decode_image_file(path, channels=1)[..., 0]
        np.testing.assert_array_equal(grey, np.round(pixels[..., :3] @ [0.299, 0.587, 0.114]))


def test_damaged_file_is_named_with_pillow(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"no image at all")
    with pytest.raises(ValueError, match=r"Cannot decode .*broken\.png as an image.*Accepted: \.jpg"):
        decode_image_file(tmp_path / "broken.png")
    with pytest.raises(ValueError, match=r"Received: channels=2"):
        decode_image_file(tmp_path / "broken.png", channels=2)


def write_png(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(pixels).numpy())  # written by another encoder than the one that reads it


def write_class_folders(root, channels):
    for index in range(4):
        write_png(root / f"class{index % 2}" / f"{index}.png", RNG.integers(0, 256, (10, 12, channels), dtype=np.uint8))


def test_datasets_keep_grey_images_one_channel(tmp_path):
    write_class_folders(tmp_path / "grey", 1)
    write_class_folders(tmp_path / "colour", 3)
    grey, colour = load_images(tmp_path / "grey"), load_images(tmp_path / "colour")
    assert grey.images.shape == (4, 10, 12, 1) and colour.images.shape == (4, 10, 12, 3)
    assert grey.labels.tolist() == [0, 0, 1, 1] and grey.class_names == ["class0", "class1"]
    with tarfile.open(tmp_path / "grey.tar.gz", "w:gz") as archive:
        archive.add(tmp_path / "grey", arcname="test")
    np.testing.assert_array_equal(load_images(tmp_path / "grey.tar.gz").images, grey.images)


def test_transfer_folders_are_read_as_rgb(tmp_path):
    write_class_folders(tmp_path / "grey", 1)
    source = FolderSource(tmp_path / "grey")
    (batch,) = source.images(np.arange(4), (10, 12))
    assert batch.shape == (4, 10, 12, 3)
    np.testing.assert_array_equal(batch[..., 0], batch[..., 2])
    np.testing.assert_array_equal(batch[..., :1], load_images(tmp_path / "grey").images)


def test_read_image_converts_channels_and_resizes(tmp_path):
    pixels = RNG.integers(0, 256, (20, 16, 3), dtype=np.uint8)
    write_png(tmp_path / "x.png", pixels)
    image, resized = read_image(tmp_path / "x.png", (20, 16, 1))
    assert not resized and image.shape == (20, 16, 1)
    image, resized = read_image(tmp_path / "x.png", (10, 8, 3))
    assert resized and image.shape == (10, 8, 3) and image.dtype == np.uint8
    assert abs(float(image.mean()) - float(pixels.mean())) < 3


def test_to_uint8_rounds_half_to_even_clips_and_keeps_uint8_as_it_is():
    from keras_robust.pixels import to_uint8

    assert to_uint8(np.array([-3.0, 0.5, 1.5, 2.5, 254.6, 300.0, np.float32(127.49)])).tolist() == [
        0, 0, 2, 2, 255, 255, 127]
    pixels = np.arange(256, dtype=np.uint8)
    assert to_uint8(pixels) is pixels
    assert to_uint8([[1.2, 3.7]]).dtype == np.uint8
