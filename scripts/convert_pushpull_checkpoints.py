"""Regenerate keras_robust/applications/weights/ from the authors' checkpoints.

Reads every `*.pth.tar` of ../shared/data/pushpull-checkpoints (PyTorch,
MIT licence, https://github.com/nicstrisc/Push-Pull-CNN-layer), checks that
it loads into the matching Keras builder, and writes its state dict as a
`.npz` of float32 arrays (no torch needed at run time), and updates the
record of each in `pretrained.json` (the `PretrainedWeights` of
`keras_robust.applications.WEIGHTS`): file, sha256, source_sha256,
`published_top1` (`best_prec1` / 100) and epoch; the other fields (class
names, normalisation, recipe, measured_top1) are kept.

Usage: python scripts/convert_pushpull_checkpoints.py [CHECKPOINT_DIR]
"""

import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "pushpull-checkpoints"
# authors' file stem -> builder name
CHECKPOINTS = {
    **{f"resnet-{d}": f"ResNet{d}" for d in (20, 32, 44, 56)},
    **{f"resnet-{d}-pp": f"ResNet{d}PP" for d in (20, 32, 44, 56)},
    "densenet-40-12": "DenseNet40_12",
    "densenet-40-12-pp": "DenseNet40_12PP",
    "densenet-100-12": "DenseNet100_12",
    "densenet-100-12-pp": "DenseNet100_12PP",
}
def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def atomic_write(path, write):
    """Call `write(temporary_path)`, then move the result onto `path`."""
    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def convert(source_dir, target_dir):
    import torch

    from keras_robust.applications import BUILDERS
    from keras_robust.applications.torch_weights import load_torch_checkpoint, read_state_dict

    target_dir.mkdir(parents=True, exist_ok=True)
    registry = target_dir / "pretrained.json"
    data = json.loads(registry.read_text())
    records = {record["model"]: record for record in data["weights"]}
    for stem, builder_name in CHECKPOINTS.items():
        source = source_dir / f"{stem}.pth.tar"
        checkpoint = torch.load(source, map_location="cpu", weights_only=True)
        state = read_state_dict(source)
        # Fails, naming the tensor, unless the checkpoint fits the builder.
        load_torch_checkpoint(BUILDERS[builder_name](weights=None), source)
        target = target_dir / f"{stem.replace('-', '_')}.npz"
        atomic_write(target, lambda path: np.savez_compressed(path, **state))
        records[builder_name].update(
            file=target.name, source_file=source.name, source_sha256=sha256(source), sha256=sha256(target),
            published_top1=round(float(checkpoint["best_prec1"]) / 100, 6), epoch=int(checkpoint["epoch"]),
        )
        print(f"{builder_name:18s} <- {source.name:24s} best_prec1={float(checkpoint['best_prec1']):.2f}")
    text = json.dumps(data, indent=1) + "\n"
    atomic_write(registry, lambda path: path.write_text(text))


if __name__ == "__main__":
    source_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    if not source_dir.is_dir():
        sys.exit(f"checkpoint folder not found: {source_dir}")
    convert(source_dir, REPO / "keras_robust" / "applications" / "weights")
