"""The training state on disk of `fit` and `fit_deepcorrect` among the names of training; defined in `keras_robust.checkpoint`."""

from keras_robust.checkpoint import (
    CHECKPOINT, LOG, RUN_FILES, atomic_write, load_state, read_log, restore_variables, save_state, write_log,
)

__all__ = [
    "CHECKPOINT", "LOG", "RUN_FILES", "atomic_write", "load_state", "read_log", "restore_variables", "save_state",
    "write_log",
]
