"""Atomic writes: build the output beside the target, then rename it into place."""

import contextlib
import os
import shutil
import uuid
from pathlib import Path


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _sibling(target, tag, suffix=""):
    return target.parent / f".{target.name}.{tag}-{uuid.uuid4().hex[:8]}{suffix}"


@contextlib.contextmanager
def atomic_output(target, *, overwrite=False, suffix=""):
    """Yield a temporary path beside `target`; move it onto `target` on success.

    Whatever the body writes at the yielded path (a file or a folder) replaces
    `target` only if the body returns normally; if it raises, the temporary
    path is removed and `target` is left as it was.

    Args:
        target: path of the file or folder to write.
        overwrite: bool. If `False`, an existing `target` is refused with
            `FileExistsError` before anything is written.
        suffix: ending of the temporary name, for writers that check it
            (e.g. `".keras"`).

    Example:

    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_output(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> open(target).read()
    'done'
    """
    target = Path(target)
    if (target.exists() or target.is_symlink()) and not overwrite:
        raise FileExistsError(
            f"{target} already exists. Pass overwrite=True (--overwrite on the "
            "command line) to replace it."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(target, "tmp", suffix)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"Nothing was written for {target}.")
        if target.is_dir() and not target.is_symlink():
            # os.replace cannot replace a non-empty folder: move the old one
            # aside first, so the new one appears in a single rename.
            old = _sibling(target, "old")
            os.replace(target, old)
            os.replace(tmp, target)
            _remove(old)
        else:
            os.replace(tmp, target)
    finally:
        _remove(tmp)
