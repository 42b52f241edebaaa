"""Image sets for transfer evaluation, read lazily and resized to a model's input.

Caltech-101, Caltech-256 and SUN-397 hold images of many sizes, too many to
keep in memory at full size: a source knows its labels up front and decodes
only the images asked for, resized on the fly.
"""

import hashlib
from pathlib import Path

import numpy as np

from keras_robust.datasets import load_images
from keras_robust.datasets.image_source import locate_dataset, prepared_builder, subset_positions
from keras_robust.image_files import IMAGE_SUFFIXES, decode_image_file
from keras_robust.transfer.cache import fingerprint
from keras_robust.transfer.features import fit_images

TFDS_DATASETS = ("caltech101", "sun397")
ACCEPTED = (
    f"a tfds name ({', '.join(TFDS_DATASETS)}, prepared under --data-dir), a dataset shipped with the package "
    "('mnist': the MNIST test digits, 'cifar10_sample'), a folder of class sub-folders of images (Caltech-256 and any "
    "other set), or a .npz / .tar.gz file readable by keras_robust.datasets.load_images"
)


class ArraySource:
    """Images already in memory (uint8, N x H x W x C).

    Args:
        images: uint8 array (N, H, W) or (N, H, W, C).
        labels: int array (N,).
        class_names: names of the classes, indexed by label.
        name: identity of the set in cache keys and results.
    """

    def __init__(self, images, labels, class_names=None, name="arrays"):
        if len(images) != len(labels):
            raise ValueError(
                f"images and labels must have the same length. Received: {len(images)} and {len(labels)}"
            )
        self._images = np.asarray(images)
        self.labels = np.asarray(labels, dtype="int64").reshape(-1)
        self.class_names = list(class_names or [str(c) for c in range(self.labels.max() + 1)])
        self.name = name
        self.identity = {"arrays": name, "sha256": fingerprint(self._images, self.labels)}

    def images(self, indices, size, channels=3, batch_size=256):
        """uint8 batches of the images at sorted `indices`, resized to `size`."""
        for start in range(0, len(indices), batch_size):
            yield fit_images(self._images[indices[start:start + batch_size]], size, channels)


class FolderSource:
    """Images of `root/<class>/<image>` (any sizes), decoded on demand.

    Args:
        root: folder with one sub-folder of images per class (sorted by name).
    """

    def __init__(self, root):
        root = Path(root).expanduser().resolve()
        self.class_names = sorted(p.name for p in root.iterdir() if p.is_dir())
        self._paths, labels = [], []
        for label, name in enumerate(self.class_names):
            files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            self._paths += files
            labels += [label] * len(files)
        if not self._paths:
            raise FileNotFoundError(f"No images in class sub-folders of {root}. Expected: {ACCEPTED}.")
        self.labels = np.asarray(labels, dtype="int64")
        self.name = root.name
        listing = "\n".join(f"{p.relative_to(root)} {p.stat().st_size} {p.stat().st_mtime_ns}" for p in self._paths)
        self.identity = {"folder": str(root), "files_sha256": hashlib.sha256(listing.encode()).hexdigest()}

    def images(self, indices, size, channels=3, batch_size=256):
        for start in range(0, len(indices), batch_size):
            chosen = indices[start:start + batch_size]
            batch = [decode_image_file(self._paths[index], channels=3) for index in chosen]
            yield fit_images(batch, size, channels)


class TfdsSource:
    """A tensorflow-datasets image classification set, read with `tfds.load` without network.

    Args:
        name: tfds name, e.g. "caltech101" or "sun397".
        data_dir: tfds data folder where the set was prepared.
        split: tfds split expression; the protocol draws its own random
            splits, so the default takes every image ("train+test").
    """

    def __init__(self, name, data_dir=None, split="train+test", download=False):
        import tensorflow_datasets as tfds

        if download:  # fetched and prepared once here, offline refused at once
            prepared_builder(name, data_dir, download=True)
        self.name = name
        self._options = {"split": split, "data_dir": data_dir, "download": False, "shuffle_files": False}
        labels, info = self._load(decoders={"image": tfds.decode.SkipDecoding()}, with_info=True)
        self.labels = np.fromiter((ex["label"] for ex in tfds.as_numpy(labels)), dtype="int64")
        self.class_names = list(info.features["label"].names)
        self.identity = {
            "tfds": name, "version": str(info.version), "split": split,
            "data_dir": str(info.data_dir), "labels_sha256": fingerprint(self.labels),
        }

    def _load(self, **kwargs):
        import tensorflow_datasets as tfds

        try:
            return tfds.load(self.name, **self._options, **kwargs)
        except AssertionError as error:  # how tfds says the data was never prepared there
            where = f" under {self._options['data_dir']}" if self._options["data_dir"] else ""
            raise FileNotFoundError(
                f"Dataset {self.name!r} is not prepared{where} ({error.args[0].split('.')[0]}). With network, "
                "add --download (download=True) once to let tfds fetch and prepare it; offline, pass --data-dir DIR "
                "where it was prepared, or a folder of class sub-folders of images as --dataset."
            ) from None
        except tfds.core.registered.DatasetNotFoundError:
            raise ValueError(f"Unknown dataset {self.name!r}. Accepted: {ACCEPTED}.") from None

    def images(self, indices, size, channels=3, batch_size=256):
        import tensorflow_datasets as tfds

        wanted = np.zeros(len(self.labels), bool)
        wanted[indices] = True
        batch = []
        for index, example in enumerate(tfds.as_numpy(self._load())):
            if wanted[index]:
                batch.append(example["image"])
                if len(batch) == batch_size:
                    yield fit_images(batch, size, channels)
                    batch = []
        if batch:
            yield fit_images(batch, size, channels)


class Subset:
    """The images of `source` at `indices` (sorted), as a source.

    Args:
        source: any source of this module.
        indices: positions in `source.labels` to keep.
    """

    def __init__(self, source, indices):
        self._source, self._indices = source, np.sort(np.asarray(indices, dtype="int64"))
        self.labels = source.labels[self._indices]
        self.class_names = source.class_names
        self.name = source.name
        self.identity = {**source.identity, "subset_sha256": fingerprint(self._indices)}

    def images(self, indices, size, channels=3, batch_size=256):
        return self._source.images(self._indices[np.asarray(indices)], size, channels, batch_size)


def open_source(dataset, data_dir=None, *, download=False, limit=None, seed=0):
    """The image source named by `dataset`, opened by the rule of `keras_robust.datasets.load_images`.

    `keras_robust.datasets.image_source.locate_dataset` says what `dataset`
    is; a folder of class sub-folders and a tfds set are read lazily
    (`FolderSource`, `TfdsSource`: images of any size, decoded when asked
    for), anything else (a shipped set, an `.npz` file, an archive) is read
    by `load_images` into an `ArraySource`.

    Args:
        dataset: see `ACCEPTED`.
        data_dir: tfds data folder.
        download: let tfds download and prepare a set that is not prepared.
        limit: keep this many images, drawn at random with `seed` as
            `load_images` draws them (every image when the source holds fewer).
        seed: seed of that draw.

    Returns:
        A source: `labels`, `class_names`, `name`, `identity` and
        `images(indices, size, channels=3, batch_size=256)`.

    Example:

    ```python
    from keras_robust.transfer import open_source

    digits = open_source("mnist", limit=100)
    assert len(digits.labels) == 100 and digits.name == "mnist-test"
    ```
    """
    kind, where = locate_dataset(dataset, data_dir=data_dir, download=download)
    if kind == "folder":
        source = FolderSource(where)
    elif kind == "tfds":
        source = TfdsSource(where, data_dir=data_dir, download=download)
    else:
        data = load_images(dataset, data_dir=data_dir, download=download)
        source = ArraySource(*data, name=f"{where}-test" if kind == "shipped" else where.name)
    positions = subset_positions(len(source.labels), limit, seed)
    return source if positions is None else Subset(source, positions)
