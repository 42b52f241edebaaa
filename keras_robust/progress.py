"""Progress of long steps, one helper for every command: a bar on a terminal, lines in a log, nothing when quiet."""

import sys
import time

# Seconds between two lines when the output is not a terminal.
LINE_INTERVAL = 5.0


def _duration(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def progress(iterable, *, label, total=None, quiet=False, describe=None, file=None):
    """Yield the items of `iterable`, showing how many are done and how long the rest will take.

    On a terminal, a progress bar with the count and an estimate of the time
    left; otherwise (a log file, a pipe) a line with the count, the time
    spent and the estimate at the start, at most every `LINE_INTERVAL`
    seconds and at the end; nothing when `quiet`.

    Args:
        iterable: the steps.
        label: what the steps do, e.g. `"Corrupting and evaluating"`.
        total: number of steps (default: `len(iterable)`).
        quiet: bool, show nothing.
        describe: optional callable naming the current item, shown beside
            the count.
        file: where to write (default `sys.stderr`).

    Example:

    >>> from keras_robust.progress import progress
    >>> sum(progress(range(4), label="Adding", quiet=True))
    6
    """
    if quiet:
        yield from iterable
        return
    import click

    file = file or sys.stderr
    total = len(iterable) if total is None else total
    if file.isatty():
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
