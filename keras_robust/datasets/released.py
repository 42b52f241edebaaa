"""The released corrupted test sets (CIFAR-10-C, ImageNet-C) read through TensorFlow Datasets."""

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from keras_robust.datasets.cifar10_jpeg import CIFAR10_CLASSES
from keras_robust.datasets.image_source import LabeledImages, prepared_builder


@dataclass(frozen=True)
class ReleasedCorruptions:
    """A tfds corrupted test set: one tfds config per corruption and severity.

    Args:
        name: the tfds dataset name, e.g. `"cifar10_corrupted"`.
        clean: the tfds name of the uncorrupted images.
        split: the split of both.
        renames: keras_robust corruption name -> tfds name, where they differ.
        crop_clean: centre-crop the clean images as tfds crops the corrupted
            ones (ImageNet).
        class_names: names of the labels where tfds gives only numbers.
        description: what the images are, for reports.
    """

    name: str
    clean: str
    split: str
    description: str
    renames: dict = field(default_factory=dict)
    crop_clean: bool = False
    class_names: tuple = None

    def config(self, corruption, severity):
        """The tfds config name, e.g. `"cifar10_corrupted/frosted_glass_blur_5"`."""
        return f"{self.name}/{self.renames.get(corruption, corruption)}_{int(severity)}"

    def load(self, corruption, severity, *, data_dir=None, download=False, limit=None, seed=0):
        """`LabeledImages` of one corruption at one severity (positions drawn with `seed` as in `load_images`)."""
        data = _read(prepared_builder(self.config(corruption, severity), data_dir, download), self.split, limit, seed)
        return data._replace(class_names=list(self.class_names)) if self.class_names else data

    def load_clean(self, *, data_dir=None, download=False, limit=None, seed=0):
        """`LabeledImages` of the uncorrupted test images."""
        return _read(prepared_builder(self.clean, data_dir, download), self.split, limit, seed, self.crop_clean)

    def tasks(self, corruptions, severities, **reading):
        """A `ReleasedTask` per corruption and severity, each reading its own images and labels when applied."""
        return [ReleasedTask(name, severity, self, reading) for name in corruptions for severity in severities]


class ReleasedTask(NamedTuple):
    """One released corruption at one severity, for `keras_robust.benchmarking.evaluation.evaluate`."""

    group: str
    level: int
    source: ReleasedCorruptions
    reading: dict

    def apply(self, images):
        """`(images, labels)` of the released set (the clean `images` are not used: the set brings its own)."""
        data = self.source.load(self.group, self.level, **self.reading)
        return data.images, data.labels


def _read(builder, split, limit, seed, crop=False):
    """Images and labels of a prepared builder's split, a seeded subset of `limit` positions if given.

    Streams the split, so only the kept images are held; `crop` decodes JPEG
    bytes with the centre crop to 224x224 that tfds' imagenet2012_corrupted
    applies before corrupting.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    decoders = {"image": tfds.decode.SkipDecoding()} if crop else None
    dataset = builder.as_dataset(split=split, as_supervised=True, decoders=decoders)
    total = int(dataset.cardinality())
    if limit is not None and 0 < limit < total:
        keep = tf.constant(np.sort(np.random.default_rng(seed).permutation(total)[:limit]), tf.int64)

        def kept(position, _):
            return tf.reduce_any(position == keep)

        def drop_position(_, pair):
            return pair

        dataset = dataset.enumerate().filter(kept).map(drop_position)
    if crop:
        dataset = dataset.map(_centre_crop)
    batches = list(tfds.as_numpy(dataset.batch(1000)))
    if not batches:
        raise ValueError(f"tfds dataset {builder.info.full_name} has no images in split {split!r}.")
    images = np.concatenate([b[0] for b in batches]).astype("uint8")
    labels = np.concatenate([b[1] for b in batches]).astype("int64")
    return LabeledImages(images, labels, list(builder.info.features["label"].names))


def _centre_crop(image_bytes, label):
    """tfds' imagenet2012_corrupted crop (central 224/256 of the short side, bicubic to 224), clipped to uint8."""
    import tensorflow as tf

    from keras_robust.graph import imagenet_c_crop

    return tf.cast(tf.clip_by_value(imagenet_c_crop(image_bytes), 0, 255), tf.uint8), label


RELEASED = {
    "cifar10_corrupted": ReleasedCorruptions(
        "cifar10_corrupted", clean="cifar10", split="test",
        renames={"glass_blur": "frosted_glass_blur", "elastic_transform": "elastic"}, class_names=CIFAR10_CLASSES,
        description="the released CIFAR-10-C (Hendrycks and Dietterich, 2019; zenodo.org/record/2535967, read "
                    "through TensorFlow Datasets' cifar10_corrupted), clean errors on the original CIFAR-10 test "
                    "set (tfds cifar10)"),
    "imagenet2012_corrupted": ReleasedCorruptions(
        "imagenet2012_corrupted", clean="imagenet2012", split="validation", crop_clean=True,
        description="ImageNet-C as TensorFlow Datasets' imagenet2012_corrupted prepares it (the ImageNet-C "
                    "corruption code applied to the ImageNet 2012 validation set, centre-cropped to 224x224, "
                    "which must be downloaded by hand); clean errors on tfds imagenet2012"),
}


def released_corruptions(name):
    """The `ReleasedCorruptions` of a tfds name (`"cifar10_corrupted"` or `"imagenet2012_corrupted"`).

    Evaluating on these sets, as RobustBench does, gives numbers comparable
    with published CIFAR-10-C/ImageNet-C results, unlike corruptions generated
    by `keras_robust.corruptions.corrupt`. Each (corruption, severity) is a
    tfds config (`cifar10_corrupted/fog_5`); tfds prepares them under its data
    folder (`data_dir`), downloading only with `download=True`.

    Args:
        name: `"cifar10_corrupted"` or `"imagenet2012_corrupted"`.

    Returns:
        A `ReleasedCorruptions`.

    Example:

    >>> from keras_robust.datasets import released_corruptions
    >>> released_corruptions("cifar10_corrupted").config("glass_blur", 5)
    'cifar10_corrupted/frosted_glass_blur_5'
    """
    if name not in RELEASED:
        raise ValueError(f"Unknown released corruption set. Received: name={name!r}; accepted: {', '.join(RELEASED)}.")
    return RELEASED[name]
