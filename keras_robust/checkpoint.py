"""Per-epoch training state on disk: model and optimizer variables, epoch, best score, CSV log."""

import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from keras_robust.atomic import atomic_output

CHECKPOINT = "checkpoint.npz"
LOG = "log.csv"
# What a run writes besides its checkpoint (the rows of the log, the last and the best model).
RUN_FILES = (LOG, "last.keras", "best.keras")


def atomic_write(path, write):
    """Call `write(temporary_path)`, then rename the result to `path` (its suffix kept, as Keras checks it)."""
    with atomic_output(path, overwrite=True, suffix=Path(path).suffix) as temporary:
        write(temporary)


def save_state(directory, model, optimizer, *, epoch, best, config, extra=None):
    """Write `checkpoint.npz`: every model and optimizer variable, the next epoch, the best score, and `extra`
    (JSON-serializable: what else a resume needs, such as the points of a learning curve)."""
    arrays = {f"model/{i}": v.numpy() for i, v in enumerate(model.variables)}
    arrays.update({f"optimizer/{i}": v.numpy() for i, v in enumerate(optimizer.variables)})
    arrays.update(epoch=np.int64(epoch), best=np.float64(best), config=np.str_(json.dumps(config, sort_keys=True)),
                  extra=np.str_(json.dumps(extra)))

    def write(path):
        with open(path, "wb") as file:
            np.savez(file, **arrays)

    atomic_write(Path(directory) / CHECKPOINT, write)


def load_state(directory):
    """The saved state as a dict (`model`, `optimizer`: lists of arrays; `epoch`, `best`, `config`, `extra`),
    or None."""
    path = Path(directory) / CHECKPOINT
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            def group(prefix):
                keys = sorted((k for k in data.files if k.startswith(prefix)), key=lambda k: int(k.split("/")[1]))
                return [data[k] for k in keys]

            return {
                "model": group("model/"),
                "optimizer": group("optimizer/"),
                "epoch": int(data["epoch"]),
                "best": float(data["best"]),
                "config": json.loads(str(data["config"])),
                "extra": json.loads(str(data["extra"])) if "extra" in data.files else None,
            }
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as error:
        # ValueError also covers NumPy's refusal of pickled arrays: its advice to allow pickles is never passed on.
        reason = "it holds pickled objects" if "allow_pickle" in str(error) else f"{type(error).__name__}"
        raise ValueError(
            f"{path} is not a readable training checkpoint (truncated, corrupt or not written by keras_robust: "
            f"{reason}). Training cannot resume from it: delete {path} to start over from epoch 0, or train into "
            "another --output folder."
        ) from None


def restore_variables(variables, values, what):
    """Assign saved `values` to `variables`, after checking they match one to one."""
    shapes = [tuple(v.shape) for v in variables]
    saved = [tuple(a.shape) for a in values]
    if shapes != saved:
        raise ValueError(
            f"The checkpoint's {what} variables do not match: {len(saved)} saved, {len(shapes)} in the "
            f"{what}; first shapes saved {saved[:3]}, expected {shapes[:3]}."
        )
    for variable, value in zip(variables, values):
        variable.assign(value)


def read_log(directory):
    """Rows of `log.csv` as dicts of floats (`epoch` as int), [] when there is none."""
    path = Path(directory) / LOG
    if not path.exists():
        return []
    with open(path, newline="") as file:
        try:
            rows = [{k: int(v) if k == "epoch" else float(v) for k, v in row.items()} for row in csv.DictReader(file)]
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path} is not a training log written by keras_robust ({error}).") from None
    if any("epoch" not in row for row in rows):
        raise ValueError(f"{path} is not a training log written by keras_robust: it has no 'epoch' column.")
    return rows


def write_log(directory, rows):
    """Rewrite `log.csv` with `rows` (dicts with the same keys)."""
    if not rows:
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(Path(directory) / LOG, lambda path: Path(path).write_text(buffer.getvalue()))
