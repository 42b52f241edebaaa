"""Top-1 of every shipped pretrained model on the CIFAR-10 JPEG test copy.

Evaluates each record of `keras_robust.applications.WEIGHTS` (its builder
with those weights) on the 10,000 images of
../shared/data/cifar10-jpeg/test.tar.gz (JPEG re-encodings at about quality
75, not the original test set) and prints a Markdown table next to the
record's `published_top1` (the `best_prec1` the authors stored in the
checkpoint: their top-1 on the original CIFAR-10 test set) and its
`measured_top1` (the number of the last full run, which this run should
reproduce).

Usage: nice python scripts/evaluate_pretrained.py [TARBALL] [--limit N]
"""

import argparse
import time
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
DEFAULT_TARBALL = REPO.parent / "shared" / "data" / "cifar10-jpeg" / "test.tar.gz"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", nargs="?", default=str(DEFAULT_TARBALL))
    parser.add_argument("--limit", type=int, default=None, help="evaluate on N images only")
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    from keras_robust import metrics
    from keras_robust.applications import BUILDERS, WEIGHTS
    from keras_robust.datasets import load_cifar10_jpeg

    images, labels, _ = load_cifar10_jpeg(args.tarball, limit=args.limit)
    print(f"{len(labels)} images of {args.tarball} (CIFAR-10 JPEG copy)\n")
    print("| Model | Top-1 on the JPEG test copy (%) | measured_top1 in the record (%) | "
          "best_prec1 in the checkpoint (%) | Epoch |")
    print("|---|---:|---:|---:|---:|")
    for record in WEIGHTS.values():
        start = time.perf_counter()
        model = BUILDERS[record.model](weights=record.name)
        top1 = 100 * metrics.accuracy(model, images, labels, batch_size=args.batch_size)
        print(
            f"| {record.model} | {top1:.2f} | {100 * record.measured_top1:.2f} | "
            f"{100 * record.published_top1:.2f} | {record.epoch} |",
            flush=True,
        )
        print(f"<!-- {record.key}: {time.perf_counter() - start:.0f} s -->", flush=True)


if __name__ == "__main__":
    main()
