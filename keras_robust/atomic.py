"""Safe writes: every file or folder the package writes goes through `atomic_output`.

- The output is built inside a private temporary folder beside the target
  (`tempfile.mkdtemp`: a random name, created exclusively, mode 0700, in the
  same folder so the final rename stays on one file system), so a symlink
  planted under a guessable name is never followed and nothing half-written is
  ever seen at the target.
- The target appears in one `os.replace`; a replaced folder is first moved
  into the private folder, then removed with it.
- A run killed midway (SIGKILL) leaves its private folder behind; the next
  write of the same target removes those of dead processes.
- Folders it writes carry a marker file (`MARKER`): `overwrite=True` replaces
  a folder only if it holds one, so `--overwrite` never deletes user data, the
  input, the working directory or a folder the package did not make.

`check_output` runs these rules (and the cheap checks of the output path:
missing or unwritable folder, over-long name) before any expensive work.
"""

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path

MARKER = ".keras_robust-output"
_MARKER_TEXT = ("Written by keras_robust. `--overwrite` (overwrite=True) replaces a folder only when this file is in "
                "it.\n")
_TMP = ".tmp-"
# room the temporary name needs beside the target's name: "." + name + ".tmp-<pid>-<8 random>"
_TMP_OVERHEAD = 1 + len(_TMP) + 10 + 1 + 8


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _prefix(target):
    return f".{target.name}{_TMP}"


def clean_leftovers(target):
    """Remove what killed writes of `target` left beside it (their private folders), and nothing else.

    Only folders named like this module's temporary folders for `target`, owned
    by the current user, not symlinks, whose writing process is gone, are
    removed.

    Args:
        target: path of a file or folder the package writes.

    Returns:
        The list of removed paths.

    Example:

    >>> import os, tempfile
    >>> from keras_robust.atomic import clean_leftovers
    >>> clean_leftovers(os.path.join(tempfile.mkdtemp(), "out.json"))
    []
    """
    target = Path(target)
    removed = []
    prefix = _prefix(target)
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        pid = entry.name[len(prefix):].split("-", 1)[0]
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if (not pid.isdigit() or not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid()
                or (_pid_alive(int(pid)) and int(pid) != os.getpid())):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def _is_marked(folder):
    try:
        return stat.S_ISREG(os.lstat(folder / MARKER).st_mode)
    except OSError:
        return False


def _has_entries(folder):
    with os.scandir(folder) as entries:
        return any(True for _ in entries)


def _inside(path, folder):
    return path == folder or folder in path.parents


def check_output(target, *, overwrite=False, inputs=()):
    """Refuse, before any work, an output path that cannot or must not be written.

    Raises `FileExistsError` for an existing target without `overwrite`;
    `ValueError` for a target that is the working directory, the home folder,
    a folder holding them, an input or a folder holding an input, or a
    non-empty folder the package did not write (no `MARKER` in it) even
    with `overwrite`; `OSError` for a name too long for the file system, a parent
    that is a file, or a folder where nothing can be written (permissions, a
    read-only file system).

    Args:
        target: the file or folder to write.
        overwrite: bool, whether an existing target written by the package may
            be replaced.
        inputs: paths the command reads (files or folders); other strings
            (e.g. builder or dataset names) are ignored.

    Returns:
        `target` as a `pathlib.Path`.

    Example:

    >>> import os, tempfile
    >>> from keras_robust.atomic import check_output
    >>> check_output(os.path.join(tempfile.mkdtemp(), "ranking.json")).name
    'ranking.json'
    """
    if not str(target).strip():  # before Path(), which reads "" as "."
        raise ValueError(f"The output path is empty. Received: {str(target)!r}")
    target = Path(target)
    longest = os.pathconf(_existing_parent(target), "PC_NAME_MAX") - _TMP_OVERHEAD
    if len(os.fsencode(target.name)) > longest:
        raise OSError(errno.ENAMETOOLONG, f"The output name is too long for this file system (at most {longest} "
                      f"bytes here). Received: {len(os.fsencode(target.name))} bytes")
    resolved = target.resolve()
    for protected, what in ((Path.cwd().resolve(), "the working directory"), (Path.home().resolve(), "your home")):
        if _inside(protected, resolved):
            raise ValueError(f"Refusing to write over {what} ({protected}). Received: output={target}")
    for source in inputs:
        if source is None or not os.path.exists(str(source)):
            continue
        source = Path(source).resolve()
        if _inside(source, resolved):
            raise ValueError(f"The output would replace the input {source}: choose another output. "
                             f"Received: output={target}")
    exists = target.exists() or target.is_symlink()
    if exists and not overwrite:
        raise FileExistsError(f"{target} already exists. Pass --overwrite (overwrite=True) to replace it, or "
                              "choose another output.")
    if exists and target.is_dir() and not target.is_symlink() and not _is_marked(target) and _has_entries(target):
        raise ValueError(f"{target} is a folder keras_robust did not write (it holds no {MARKER} file): it is "
                         "never replaced, even with --overwrite. Choose another output, or remove it yourself.")
    _probe(_existing_parent(target), target)
    return target


def _existing_parent(target):
    parent = Path(os.path.abspath(target)).parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"Cannot write into {parent}: it is a file, not a folder. "
                                 f"Received: output={target}")
    return parent


def _probe(folder, target):
    """Create and remove a private folder in `folder`: the one check that also catches read-only file systems."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".keras_robust-probe-", dir=folder))
    except OSError as error:
        raise OSError(error.errno, f"Cannot write into {folder}: {error.strerror}. Received: output={target}") from None


def _place(new, target, private):
    """Move `new` onto `target` in one rename; a folder (or a file replaced by a folder) is moved aside first."""
    if target.is_dir() and not target.is_symlink() or (new.is_dir() and (target.exists() or target.is_symlink())):
        os.replace(target, private / "previous")
    os.replace(new, target)


@contextlib.contextmanager
def atomic_output(target, *, overwrite=False, suffix=""):
    """Yield a temporary path to write; it becomes `target` when the body returns normally.

    The temporary path lies in a private folder beside `target` (random name,
    created exclusively, never a followed symlink) and ends like `target` (or
    with `suffix`), so writers that check the file ending accept it. If the
    body raises (or the run is interrupted), `target` is left as it was and
    the private folder is removed; if the process is killed, the next write of
    `target` removes it. A folder written here receives the `MARKER` file.

    Args:
        target: path of the file or folder to write.
        overwrite: bool. If `False`, an existing `target` is refused with
            `FileExistsError` before anything is written; if `True`, a folder
            is replaced only when it holds `MARKER` (see `check_output`).
        suffix: ending of the temporary name, when it must differ from the
            target's (e.g. `".keras"`).

    Example:

    >>> import os, tempfile
    >>> from keras_robust.atomic import atomic_output
    >>> target = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with atomic_output(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> open(target).read()
    'done'
    """
    target = Path(target)
    check_output(target, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(target)
    private = Path(tempfile.mkdtemp(prefix=f"{_prefix(target)}{os.getpid()}-", dir=target.parent))
    try:
        new = private / (target.name if not suffix or target.name.endswith(suffix) else target.name + suffix)
        yield new
        if not (new.exists() or new.is_symlink()):
            raise FileNotFoundError(f"Nothing was written for {target}.")
        if new.is_dir() and not new.is_symlink():
            (new / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        _place(new, target, private)
    finally:
        shutil.rmtree(private, ignore_errors=True)
