"""Progress of long steps, one mechanism for every function and command: a bar on a terminal, lines in a log,
nothing when quiet.

Every public function that reports progress takes `verbose` (see `check_verbose`): `progress` for the package's own
loops, `keras_verbose` for the `verbose` of Keras's `fit`. The command line's `--quiet` is `verbose=False`.
"""

import numbers
import sys
import time

from keras_robust.validation import check_bool

# Seconds between two lines when the output is not a terminal.
LINE_INTERVAL = 5.0


def _duration(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


VERBOSITIES = (True, False, 0, 1, 2, "auto")


def check_verbose(verbose=True, quiet=None):
    """`verbose` checked, with `quiet=True` (the command line's `--quiet`) meaning `verbose=False`.

    Args:
        verbose: `True` or `"auto"`: a bar on a terminal, lines otherwise;
            `1`: a bar; `2`: lines; `False` or `0`: nothing (Keras's
            verbosities, with the booleans).
        quiet: `None`, or a bool: `True` shows nothing whatever `verbose`.

    Returns:
        The verbosity, one of `VERBOSITIES`.

    Example:

    >>> from keras_robust.progress import check_verbose
    >>> check_verbose(2), check_verbose(True, quiet=True)
    (2, False)
    """
    quiet = check_bool("quiet", quiet, allow_none=True)
    if isinstance(verbose, numbers.Integral) and not isinstance(verbose, bool) and 0 <= verbose <= 2:
        verbose = int(verbose)
    elif not isinstance(verbose, bool) and not (isinstance(verbose, str) and verbose == "auto"):
        raise ValueError(f"`verbose` must be one of {', '.join(map(repr, VERBOSITIES))}. Received: verbose={verbose!r}")
    return False if quiet else verbose


def keras_verbose(verbose=True, quiet=None, *, file=None):
    """The `verbose` of Keras's `fit` that shows progress as `progress` does.

    Args:
        verbose, quiet: as `check_verbose`.
        file: the stream Keras writes to (default `sys.stdout`).

    Returns:
        `0`, `1` (a bar), `2` (a line per epoch) or `"auto"` (Keras's own choice).

    Example:

    >>> import io
    >>> from keras_robust.progress import keras_verbose
    >>> keras_verbose(True, file=io.StringIO()), keras_verbose(False), keras_verbose(quiet=True)
    (2, 0, 0)
    """
    verbose = check_verbose(verbose, quiet)
    if verbose is True:
        return 1 if (file or sys.stdout).isatty() else 2
    return int(verbose) if verbose != "auto" else verbose


def progress(iterable, *, label, total=None, verbose=True, quiet=None, describe=None, file=None):
    """Yield the items of `iterable`, showing how many are done and how long the rest will take.

    On a terminal, a progress bar with the count and an estimate of the time
    left; otherwise (a log file, a pipe) a line with the count, the time
    spent and the estimate at the start, at most every `LINE_INTERVAL`
    seconds and at the end; nothing when not `verbose`.

    Args:
        iterable: the steps.
        label: what the steps do, e.g. `"Corrupting and evaluating"`.
        total: number of steps (default: `len(iterable)`).
        verbose: as `check_verbose`: `True` a bar on a terminal and lines
            elsewhere, `1` a bar, `2` lines, `False` nothing.
        quiet: `True` is `verbose=False` (the command line's `--quiet`).
        describe: optional callable naming the current item, shown beside
            the count.
        file: where to write (default `sys.stderr`).

    Example:

    >>> from keras_robust.progress import progress
    >>> sum(progress(range(4), label="Adding", verbose=False))
    6
    """
    verbose = check_verbose(verbose, quiet)
    if not verbose:
        yield from iterable
        return
    import click

    file = file or sys.stderr
    total = len(iterable) if total is None else total
    if file.isatty() if isinstance(verbose, bool) or verbose == "auto" else verbose == 1:
        with click.progressbar(iterable, length=total, label=label, file=file, show_pos=True, show_eta=True,
                               item_show_func=lambda item: item is not None and describe and describe(item) or None
                               ) as bar:
            yield from bar
        return
    start = last = time.monotonic()
    click.echo(f"{label}: 0/{total}", file=file)
    done = 0
    for item in iterable:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= LINE_INTERVAL or done == total:
            last = now
            spent = now - start
            left = "" if done >= total else f", about {_duration(spent / done * (total - done))} left"
            named = f" ({describe(item)})" if describe else ""
            click.echo(f"{label}: {done}/{total}{named} in {_duration(spent)}{left}", file=file)
