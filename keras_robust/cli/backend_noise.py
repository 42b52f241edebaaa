"""Keeps the backends' log lines off a user's terminal: TensorFlow's C++ and absl lines (oneDNN notes, CUDA probes
that fail on every CPU machine) are printed before absl's logging is set up, so no setting silences them; only a
filter on the process's standard error does."""

import atexit
import os
import re
import sys
import threading

NOISE = re.compile(
    rb"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\] "  # absl's C++ log prefix
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|To enable the following instructions: .*rebuild TensorFlow"
    rb"|WARNING:absl:Variant folder .* has no dataset_info\.json)"  # tfds probing a folder that need not exist
)


def filter_stderr():
    """Route file descriptor 2 through a thread that drops `NOISE` lines and passes everything else unchanged.

    Only where standard error is the process's descriptor 2 (not under click's test runner, which replaces it).
    At exit descriptor 2 is restored, which closes the pipe, and the thread forwards what is left before the
    process ends.
    """
    try:
        if sys.stderr.fileno() != 2:
            return
    except (AttributeError, OSError, ValueError):
        return
    sys.stderr.flush()
    terminal = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)

    def forward():
        with os.fdopen(read, "rb") as source:
            for line in source:
                if not NOISE.match(line):
                    os.write(terminal, line)

    thread = threading.Thread(target=forward, name="keras_robust_stderr", daemon=True)
    thread.start()

    def restore():
        sys.stderr.flush()
        os.dup2(terminal, 2)  # the pipe's last writer closes: the thread reads to the end
        thread.join(timeout=5)

    atexit.register(restore)
