"""On-disk cache of deep features, one `.npz` per (model, layer, data, distortion).

The file name is a hash of everything the features depend on; the full key is
stored in the file as well and compared on load, so a cache written for another
model, layer, image selection or distortion is never returned by mistake.
"""

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np

from keras_robust.atomic import atomic_output


def fingerprint(*arrays):
    """Hex SHA-256 of the bytes, shapes and dtypes of `arrays`."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


class FeatureCache:
    """Features cached as `<directory>/<sha256 of the key>.npz`.

    Args:
        directory: folder of the cache files (created on first save).

    Example:
        >>> cache = FeatureCache(tmp_dir)
        >>> key = {"model": "resnet20", "layer": "avg_pool", "level": 0}
        >>> cache.save(key, features)
        >>> cache.load(key)  # the same array; None for any other key
    """

    def __init__(self, directory):
        self.directory = Path(directory)

    def path(self, key):
        """The file that holds the features of `key` (a JSON-serialisable dict)."""
        text = json.dumps(key, sort_keys=True)
        return self.directory / f"{hashlib.sha256(text.encode()).hexdigest()}.npz"

    def load(self, key):
        """The cached features of `key`, or None when absent, stored under another key, or unreadable.

        A truncated or corrupt entry (a killed run, a full disk) is not an
        error: it is recomputed and rewritten.
        """
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                if str(stored["key"]) != json.dumps(key, sort_keys=True):
                    return None
                return stored["features"]
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError):
            return None  # recomputed by the caller, then saved over this entry

    def save(self, key, features):
        """Write `features` for `key` atomically (temporary file, then rename)."""
        target = self.path(key)
        with atomic_output(target, overwrite=True, suffix=".npz") as temporary:
            np.savez(temporary, features=features, key=json.dumps(key, sort_keys=True))
        return target
