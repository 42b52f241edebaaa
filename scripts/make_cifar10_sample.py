"""Make the CIFAR-10 sample shipped in the package: 100 test images per class, a seeded draw.

Reads the JPEG copy of the CIFAR-10 test set (`../shared/data/cifar10-jpeg/test.tar.gz`, developers only),
draws 100 images of each class with `--seed`, interleaves the classes (0, 1, ..., 9, 0, 1, ...) and writes
`keras_robust/datasets/data/cifar10_sample/cifar10_sample.npz` (uint8 images, int64 labels, class names,
the test-set index of each image). Refuses to overwrite without `--overwrite`.

    .venv/bin/python scripts/make_cifar10_sample.py --overwrite
"""

import argparse
import hashlib
import io
from pathlib import Path

import numpy as np

from keras_robust.atomic import atomic_output
from keras_robust.datasets.cifar10_jpeg import load_cifar10_jpeg
from keras_robust.datasets.cifar10_sample import SAMPLE_FILE

ROOT = Path(__file__).resolve().parents[1]


def balanced_draw(labels, per_class, seed):
    """Indices of `per_class` items of every label, drawn at random with `seed`, classes interleaved.

    Within a class the indices are in increasing order; the classes take turns (0, 1, ..., 9, 0, 1, ...), so
    any first 10·k images hold k images of every class.
    """
    rng = np.random.default_rng(seed)
    picks = np.stack([np.sort(rng.choice(np.flatnonzero(labels == c), per_class, replace=False))
                      for c in np.unique(labels)])
    return picks.T.reshape(-1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tarball", default=ROOT.parent / "shared/data/cifar10-jpeg/test.tar.gz", type=Path)
    parser.add_argument("--per-class", default=100, type=int)
    parser.add_argument("--seed", default=0, type=int)
    parser.add_argument("--output", default=SAMPLE_FILE, type=Path)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    images, labels, names = load_cifar10_jpeg(args.tarball, split="test")
    keep = balanced_draw(labels, args.per_class, args.seed)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer, images=images[keep], labels=labels[keep].astype("int64"),
        class_names=np.asarray(names), test_index=keep.astype("int64"),
    )
    with atomic_output(args.output, overwrite=args.overwrite) as tmp:
        tmp.write_bytes(buffer.getvalue())
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()
    print(f"wrote {args.output} ({len(keep)} images, {len(buffer.getvalue()) / 1e6:.2f} MB, sha256 {digest})")


if __name__ == "__main__":
    main()
