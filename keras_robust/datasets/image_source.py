"""Labelled image sets from a tfds name, a folder of class sub-folders, an archive or an .npz file."""

from collections import namedtuple
import io
from pathlib import Path
import tarfile
import zipfile
import zlib

import numpy as np

from keras_robust.image_files import IMAGE_SUFFIXES, decode_image_file
from keras_robust.pixels import to_uint8
from keras_robust.validation import check_int, check_labels, check_pixels

LabeledImages = namedtuple("LabeledImages", ["images", "labels", "class_names"])
LabeledImages.__doc__ = "uint8 images (N, H, W, C) in [0, 255], int labels (N,) and the class names."

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
ACCEPTED = (
    "a dataset shipped with the package (cifar10_sample, mnist), a tfds dataset name (e.g. 'cifar10', prepared under --data-dir), a folder of class "
    "sub-folders of images, a .tar/.tar.gz archive of <split>/<class>/<image> files, or an "
    ".npz file with arrays 'images' (N, H, W[, C]) and 'labels' (N,)"
)


def _stack(decoded):
    """Labelled uint8 images of `(class_name, image)` pairs, classes in sorted order."""
    decoded = sorted(decoded, key=lambda pair: pair[0])
    class_names = sorted({name for name, _ in decoded})
    shapes = {image.shape for _, image in decoded}
    if len(shapes) != 1:
        raise ValueError(f"All images must have one size and colour mode. Received shapes: {sorted(shapes)[:5]}")
    images = np.stack([image for _, image in decoded])
    labels = np.asarray([class_names.index(name) for name, _ in decoded], dtype="int64")
    return LabeledImages(images, labels, class_names)


def load_image_folder(folder):
    """Images of `folder/<class>/<image>`, classes in sorted order; grey images keep 1 channel."""
    folder = Path(folder)
    paths = [path for path in sorted(folder.glob("*/*")) if path.suffix.lower() in IMAGE_SUFFIXES]
    if not paths:
        raise ValueError(f"No images found in class sub-folders of {folder}. Expected: {ACCEPTED}.")
    return _stack([(path.parent.name, decode_image_file(path)) for path in paths])


def load_image_archive(path, split="test"):
    """Images of an archive of `<split>/<class>/<image>` (or `<class>/<image>`) members; grey images keep 1 channel."""
    try:
        return _read_archive(path, split)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a readable .tar/.tar.gz archive (truncated or corrupt: "
                         f"{type(error).__name__}). Accepted: {ACCEPTED}.") from None


def _read_archive(path, split):
    with tarfile.open(path) as archive:
        members = [m for m in archive.getmembers() if m.isfile() and m.name.lower().endswith(IMAGE_SUFFIXES)]
        parts = [Path(m.name).parts for m in members]
        if any(len(p) >= 3 for p in parts):
            chosen = [(m, p) for m, p in zip(members, parts) if len(p) >= 3 and p[-3] == split]
        else:
            chosen = list(zip(members, parts))
        if not chosen:
            raise ValueError(f"No images of split {split!r} in {path}. Expected: {ACCEPTED}.")
        # read whole, in archive order: a compressed archive seeks fast only forwards
        decoded = [
            (p[-2], decode_image_file(io.BytesIO(archive.extractfile(m).read()), name=m.name)) for m, p in chosen
        ]
    return _stack(decoded)


def load_npz(path):
    """Images and labels of an .npz file with arrays `images` and `labels`."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            files = list(arrays.files)
            if {"images", "labels"} <= set(files):
                images, labels = arrays["images"], arrays["labels"]
                class_names = [str(n) for n in arrays["class_names"]] if "class_names" in files else None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:  # never NumPy's advice to allow pickles
        if isinstance(error, FileNotFoundError):
            raise
        reason = "it holds pickled objects" if "pickle" in str(error) else type(error).__name__
        raise ValueError(f"{path} is not a readable .npz file ({reason}). Accepted: {ACCEPTED}.") from None
    except MemoryError as error:  # a header claiming more than the machine holds: refused before any allocation
        raise ValueError(f"{path} holds an array larger than this machine's memory ({error}): a forged or damaged "
                         f"file, or more images than fit. Accepted: {ACCEPTED} whose arrays fit in memory.") from None
    if not {"images", "labels"} <= set(files):
        raise ValueError(f"{path} must hold arrays 'images' and 'labels'. Received arrays: {files}")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or len(images) != len(labels):
        raise ValueError(
            f"{path}: 'images' must be (N, H, W[, C]) and 'labels' (N,). Received shapes: "
            f"{images.shape} and {labels.shape}"
        )
    check_pixels(images, name=f"images of {path}")
    images = to_uint8(images)
    labels = check_labels(labels, len(class_names) if class_names else None, name=f"labels of {path}")
    if class_names is None:
        class_names = [str(i) for i in range(int(labels.max()) + 1)]
    return LabeledImages(images, labels, class_names)


TFDS_HOST = "storage.googleapis.com"  # tfds looks for every dataset in its bucket there before its own URLs
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def check_network(name):
    """Refuse a download at once on a machine without network.

    tfds retries each failed request with backoff, so offline its download
    fails only after minutes; a host name that does not resolve says the same
    in milliseconds. Behind a proxy the names resolve there, so nothing is
    checked.
    """
    import os
    import socket

    if any(os.environ.get(variable) for variable in PROXY_VARIABLES):
        return
    try:
        socket.getaddrinfo(TFDS_HOST, 443)
    except OSError as error:
        raise FileNotFoundError(
            f"Could not download tfds dataset {name!r}: no network ({TFDS_HOST}, where tfds fetches datasets, does "
            f"not resolve: {error}). Supply it with --data-dir DIR (a tfds data folder where it was prepared) or "
            f"pass a local folder, archive or .npz file."
        ) from None


def prepared_builder(name, data_dir=None, download=False):
    """The tfds builder of `name`, prepared; downloads only with `download=True`.

    Args:
        name: a tfds name, with its config if any (`"cifar10_corrupted/fog_5"`).
        data_dir: tfds data folder (default: tfds' own, `~/tensorflow_datasets`).
        download: let tfds download and prepare it when it is not prepared.
    """
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as error:  # tfds raises its own DatasetNotFoundError
        raise ValueError(f"Unknown dataset {name!r} ({type(error).__name__}). Accepted: {ACCEPTED}.") from None
    if not builder.is_prepared():
        if not download:
            raise FileNotFoundError(
                f"tfds dataset {name!r} is not prepared in {builder.data_dir} and is not downloaded "
                f"without --download. Supply it with --data-dir DIR (a tfds data folder where it was "
                f"prepared), prepare it once where there is network (--download), or pass a local copy: "
                f"a folder of class sub-folders, an archive or an .npz file."
            )
        check_network(name)
        try:
            builder.download_and_prepare()
        except Exception as error:
            raise FileNotFoundError(
                f"Could not download tfds dataset {name!r} ({type(error).__name__}: {error}). "
                f"Supply it with --data-dir or pass a local folder, archive or .npz file."
            ) from None
    return builder


def load_tfds(name, split="test", data_dir=None, download=False):
    """A tfds dataset as arrays, without network unless `download=True`."""
    import tensorflow_datasets as tfds

    builder = prepared_builder(name, data_dir, download)
    images, labels = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1, as_supervised=True))
    names = builder.info.features["label"].names
    return LabeledImages(images.astype("uint8"), labels.astype("int64"), list(names))


DATASET_KINDS = ("shipped", "npz", "archive", "folder", "tfds")


def locate_dataset(source, split="test", *, data_dir=None, download=False):
    """What `source` names and where it is: the one rule every command opens a dataset by.

    A shipped name (`"cifar10_sample"`, `"mnist"`) is the shipped set unless a
    file of that name exists or tfds is asked for (`data_dir` or `download`);
    an existing `.npz` file or `.tar`/`.tar.gz` archive is read as such; a
    folder holding `<split>.tar.gz` (or `.tgz`, `.tar`) is that archive, any
    other folder one of class sub-folders; a name without `/` that is no file
    is a tfds name.

    Args:
        source: a dataset name, file or folder (see `load_images`).
        split: the split whose archive a folder may hold.
        data_dir: tfds data folder (given: a shipped name means tfds's set).
        download: tfds may download (`True`: a shipped name means tfds's set).

    Returns:
        `(kind, where)`: `kind` one of `DATASET_KINDS`; `where` the `Path` of a
        file or folder, the shipped name, or the tfds name.

    Raises:
        FileNotFoundError: `source` looks like a path (has a `/` or a file
            suffix) and nothing readable is there.

    Example:

    >>> from keras_robust.datasets.image_source import locate_dataset
    >>> locate_dataset("mnist"), locate_dataset("mnist", data_dir="tfds"), locate_dataset("caltech101")
    (('shipped', 'mnist'), ('tfds', 'mnist'), ('tfds', 'caltech101'))
    """
    from keras_robust.datasets.shipped import SHIPPED

    path = Path(str(source)).expanduser()
    name = str(source).lower()
    if name in SHIPPED and not path.exists() and data_dir is None and not download:
        return "shipped", name
    if path.is_file() and name.endswith(".npz"):
        return "npz", path
    if path.is_file() and name.endswith(ARCHIVE_SUFFIXES):
        return "archive", path
    if path.is_dir():
        archive = next((a for a in (path / f"{split}{suffix}" for suffix in ARCHIVE_SUFFIXES) if a.is_file()), None)
        return ("archive", archive) if archive else ("folder", path)
    if path.exists() or "/" in str(source) or name.endswith((".npz", *ARCHIVE_SUFFIXES)):
        raise FileNotFoundError(f"No such dataset file or folder: {source}. Accepted: {ACCEPTED}.")
    return "tfds", str(source)


def load_images(source, split="test", *, data_dir=None, download=False, limit=None, seed=0):
    """Labelled uint8 images from any supported source.

    Args:
        source: a dataset shipped with the package (`"cifar10_sample"`,
            `"mnist"`: `keras_robust.datasets.shipped`; with `data_dir` or
            `download`, `"mnist"` is tfds's), a tfds name, a folder of class
            sub-folders (or one holding
            `<split>.tar.gz`), a `.tar`/`.tar.gz` archive of
            `<split>/<class>/<image>`, or an `.npz` file with `images` and
            `labels`.
        split: the split of a shipped or tfds dataset or of an archive.
        data_dir: tfds data folder.
        download: let tfds download a dataset that is not prepared.
        limit: keep at most this many images, drawn at random with `seed`
            (in their original order), so a subset covers every class.
        seed: seed of that draw.

    Returns:
        `LabeledImages(images, labels, class_names)`.

    Example:

    >>> import numpy as np, tempfile, os
    >>> from keras_robust.datasets import load_images
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.npz")
    >>> np.savez(path, images=np.zeros((4, 8, 8, 3), "uint8"), labels=[0, 1, 0, 1])
    >>> load_images(path, limit=3).images.shape
    (3, 8, 8, 3)
    """
    from keras_robust.datasets.shipped import load_shipped

    kind, where = locate_dataset(source, split, data_dir=data_dir, download=download)
    if kind == "shipped":
        data = LabeledImages(*load_shipped(where, split))
    elif kind == "npz":
        data = load_npz(where)
    elif kind == "archive":
        data = load_image_archive(where, split)
    elif kind == "folder":
        data = load_image_folder(where)
    else:
        data = load_tfds(where, split=split, data_dir=data_dir, download=download)
    keep = subset_positions(len(data.labels), limit, seed)
    return data if keep is None else LabeledImages(data.images[keep], data.labels[keep], data.class_names)


def subset_positions(count, limit, seed=0):
    """The sorted positions of `limit` of `count` images drawn at random with `seed`; `None` keeps them all.

    The one draw of `load_images(limit=...)` and `keras_robust.transfer.open_source`.

    Args:
        count: the number of images.
        limit: `None` (every image) or a positive int; `count` or more keeps
            every image.
        seed: seed of the draw.

    Returns:
        A sorted int array of `limit` positions, or `None`.

    Example:

    >>> from keras_robust.datasets.image_source import subset_positions
    >>> subset_positions(10, 3, seed=0).tolist(), subset_positions(10, 20)
    ([2, 4, 6], None)
    """
    if limit is None:
        return None
    limit = check_int("limit", limit, minimum=1)
    return np.sort(np.random.default_rng(seed).permutation(count)[:limit]) if limit < count else None
