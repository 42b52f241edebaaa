"""One image-file decoder: Pillow, or TensorFlow without Pillow, with the same pixels."""

import io
import sys
import tarfile

import numpy as np
import pytest
from PIL import Image
import tensorflow as tf

from keras_robust.datasets import load_images
from keras_robust.image_files import decode_image_file, read_image
from keras_robust.transfer import FolderSource

RNG = np.random.default_rng(0)


def without_pillow(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # `from PIL import Image` now raises ImportError


@pytest.fixture(params=["pillow", "tensorflow"])
def decoder(request, monkeypatch):
    if request.param == "tensorflow":
        without_pillow(monkeypatch)
    return request.param


def both_ways(monkeypatch, file, **kwargs):
    """`decode_image_file(file)` with Pillow, then with Pillow hidden (TensorFlow)."""
    rewind = (lambda: file.seek(0)) if hasattr(file, "seek") else (lambda: None)
    with_pillow = decode_image_file(file, **kwargs)
    rewind()
    with monkeypatch.context() as patch:
        without_pillow(patch)
        with pytest.raises(ImportError):
            from PIL import Image as _  # noqa: F401
        with_tensorflow = decode_image_file(file, **kwargs)
    return with_pillow, with_tensorflow


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
def test_real_jpegs_decode_to_the_same_pixels_without_pillow(shared_data, monkeypatch, channels):
    jpegs = cifar_jpegs(shared_data, 40)
    assert len(jpegs) == 40
    for name, data in jpegs:
        with_pillow, with_tensorflow = both_ways(monkeypatch, io.BytesIO(data), channels=channels, name=name)
        assert with_pillow.dtype == np.uint8 and with_pillow.shape == (32, 32, channels or 3)
        np.testing.assert_array_equal(with_tensorflow, with_pillow, err_msg=name)


WRITTEN = [(".png", mode) for mode in ("RGB", "L", "RGBA", "LA", "P")] + [
    (suffix, mode) for suffix in (".gif", ".bmp", ".jpg") for mode in ("RGB", "L")
]


@pytest.mark.parametrize("suffix, mode", WRITTEN)
def test_written_files_decode_to_the_same_pixels_without_pillow(tmp_path, monkeypatch, suffix, mode):
    pixels = RNG.integers(0, 256, (13, 9, 4), dtype=np.uint8)
    path = tmp_path / f"picture{suffix}"
    Image.fromarray(pixels if "A" in mode else pixels[..., :3]).convert(mode).save(path)
    stored_channels = 1 if mode == "L" and suffix != ".gif" else 3  # a GIF holds a palette: RGB both ways
    for channels in (None, 1, 3):
        with_pillow, with_tensorflow = both_ways(monkeypatch, path, channels=channels)
        assert with_pillow.shape == (13, 9, channels or stored_channels)
        np.testing.assert_array_equal(with_tensorflow, with_pillow, err_msg=f"{mode} {suffix} channels={channels}")
    if mode == "RGB" and suffix == ".png":
        np.testing.assert_array_equal(with_pillow, pixels[..., :3])
        grey = decode_image_file(path, channels=1)[..., 0]
        np.testing.assert_array_equal(grey, np.round(pixels[..., :3] @ [0.299, 0.587, 0.114]))


def test_without_pillow_webp_is_refused_with_a_clear_message(tmp_path, monkeypatch):
    Image.fromarray(RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "x.webp")
    assert decode_image_file(tmp_path / "x.webp").shape == (8, 8, 3)  # Pillow reads it
    (tmp_path / "photos" / "cats").mkdir(parents=True)
    (tmp_path / "x.webp").rename(tmp_path / "photos" / "cats" / "x.webp")
    without_pillow(monkeypatch)
    message = r"x\.webp: without Pillow only JPEG, PNG, BMP and GIF .* Received: a \.webp file.* pip install pillow"
    with pytest.raises(ValueError, match=message):
        decode_image_file(tmp_path / "photos" / "cats" / "x.webp")
    with pytest.raises(ValueError, match=message):
        decode_image_file(io.BytesIO(b"RIFF...."), name="x.webp")
    with pytest.raises(ValueError, match=message):
        load_images(tmp_path / "photos")
    with pytest.raises(ValueError, match=r"not\.png: .*Received: a file that is no JPEG, PNG, BMP or GIF"):
        decode_image_file(io.BytesIO(b"no image at all"), name="not.png")


def test_damaged_file_is_named_with_pillow(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"no image at all")
    with pytest.raises(ValueError, match=r"Cannot decode .*broken\.png as an image.*Accepted: \.jpg"):
        decode_image_file(tmp_path / "broken.png")
    with pytest.raises(ValueError, match=r"Received: channels=2"):
        decode_image_file(tmp_path / "broken.png", channels=2)


def write_png(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(pixels).numpy())  # not Pillow: the `decoder` fixture may hide it


def write_class_folders(root, channels):
    for index in range(4):
        write_png(root / f"class{index % 2}" / f"{index}.png", RNG.integers(0, 256, (10, 12, channels), dtype=np.uint8))


def test_datasets_keep_grey_images_one_channel(tmp_path, decoder):
    write_class_folders(tmp_path / "grey", 1)
    write_class_folders(tmp_path / "colour", 3)
    grey, colour = load_images(tmp_path / "grey"), load_images(tmp_path / "colour")
    assert grey.images.shape == (4, 10, 12, 1) and colour.images.shape == (4, 10, 12, 3)
    assert grey.labels.tolist() == [0, 0, 1, 1] and grey.class_names == ["class0", "class1"]
    with tarfile.open(tmp_path / "grey.tar.gz", "w:gz") as archive:
        archive.add(tmp_path / "grey", arcname="test")
    np.testing.assert_array_equal(load_images(tmp_path / "grey.tar.gz").images, grey.images)


def test_transfer_folders_are_read_as_rgb(tmp_path, decoder):
    write_class_folders(tmp_path / "grey", 1)
    source = FolderSource(tmp_path / "grey")
    (batch,) = source.images(np.arange(4), (10, 12))
    assert batch.shape == (4, 10, 12, 3)
    np.testing.assert_array_equal(batch[..., 0], batch[..., 2])
    np.testing.assert_array_equal(batch[..., :1], load_images(tmp_path / "grey").images)


def test_read_image_converts_channels_and_resizes(tmp_path, decoder):
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
