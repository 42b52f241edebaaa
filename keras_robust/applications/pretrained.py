"""The pretrained weights shipped with the package: one `PretrainedWeights` record each.

`WEIGHTS` maps `"<builder>.<weights>"` (timm style, e.g. `"ResNet20PP.cifar10"`)
to the record of those weights. Everything the package knows about a set of
pretrained weights — its file and checksum, where it comes from and under
which licence, the classes it predicts, the normalisation it was trained
with, the training recipe and its accuracy — is read from that record.
"""

import dataclasses
import hashlib
import json
from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# The records, one per shipped weights file (written by scripts/convert_pushpull_checkpoints.py).
RECORDS_FILE = WEIGHTS_DIR / "pretrained.json"


@dataclasses.dataclass(frozen=True)
class PretrainedWeights:
    """One set of pretrained weights of a builder of `keras_robust.applications`.

    Args:
        model: name of the builder the weights fit (e.g. `"ResNet20PP"`).
        name: name of the weights, the builder's `weights` value (e.g.
            `"cifar10"`).
        file: file name of the `.npz` state dict in
            `keras_robust/applications/weights/` (or an absolute path).
        sha256: SHA-256 of that file, checked every time it is loaded.
        source: where the weights come from (the authors' repository).
        source_file: the authors' checkpoint the `.npz` was converted from.
        source_sha256: SHA-256 of that checkpoint.
        licence: the licence of the weights.
        classes: number of classes of the model's top.
        class_names: names of the classes, indexed by label.
        mean: per-channel mean of [0, 1] images the model was trained with
            (applied inside the model); its length is the number of input
            channels.
        std: per-channel standard deviation, likewise.
        recipe: name of the training recipe in `keras_robust.training.RECIPES`.
        epoch: epoch stored in the checkpoint.
        published_top1: clean test top-1 (a fraction) stored by the authors
            in the checkpoint (`best_prec1` / 100), on the original test set.
        measured_top1: top-1 (a fraction) measured by this package, or `None`.
        measured_on: what `measured_top1` was measured on, and by which script.
        input_shape: `(height, width, channels)` of the training images, or
            `None` for the builder's default shape.

    The builder reads the normalisation, the number of classes and the input
    shape from the record; `list_models(pretrained=...)`, `resolve_model`,
    the class names of `predict`/`export` and the training recipe all derive
    from `WEIGHTS`, so a new set of weights is one record and its file.

    Example:

    >>> from keras_robust.applications import WEIGHTS
    >>> record = WEIGHTS["ResNet20PP.cifar10"]
    >>> record.class_names[:3], record.published_top1
    (('airplane', 'automobile', 'bird'), 0.9171)
    """

    model: str
    name: str
    file: str
    sha256: str
    source: str
    source_file: str
    source_sha256: str
    licence: str
    classes: int
    class_names: tuple
    mean: tuple
    std: tuple
    recipe: str
    epoch: int
    published_top1: float
    measured_top1: float = None
    measured_on: str = None
    input_shape: tuple = None

    @property
    def key(self):
        """`"<model>.<name>"`, the record's key in `WEIGHTS`."""
        return f"{self.model}.{self.name}"

    @property
    def path(self):
        """Path of the shipped `.npz` file."""
        return WEIGHTS_DIR / self.file

    def verified_path(self):
        """`path`, after checking that the file's SHA-256 is `sha256`.

        Raises:
            FileNotFoundError: the file is missing.
            ValueError: the file's SHA-256 differs (a corrupt or replaced file).
        """
        if not self.path.is_file():
            raise FileNotFoundError(f"The weights file of {self.key} is missing. Expected: {self.path}")
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        if digest != self.sha256:
            raise ValueError(
                f"The weights file {self.path} of {self.key} is corrupt or was replaced: its SHA-256 is "
                f"{digest}, expected {self.sha256}. Reinstall keras_robust to restore it."
            )
        return self.path


def _read_records():
    data = json.loads(RECORDS_FILE.read_text())
    records = []
    for entry in data["weights"]:
        sequences = {key: tuple(entry[key]) for key in ("class_names", "mean", "std", "input_shape") if key in entry}
        records.append(PretrainedWeights(**{**entry, **sequences}))
    return {record.key: record for record in records}


WEIGHTS = _read_records()


def pretrained_weights(model, name):
    """The record of weights `name` of builder `model`, or `None` if none ships.

    Example:

    >>> from keras_robust.applications import pretrained_weights
    >>> pretrained_weights("ResNet20", "cifar10").recipe
    'resnet'
    """
    return WEIGHTS.get(f"{model}.{name}")


def weights_of(model):
    """Names of the pretrained weights shipped for builder `model` (e.g. `("cifar10",)`)."""
    return tuple(record.name for record in WEIGHTS.values() if record.model == model)
