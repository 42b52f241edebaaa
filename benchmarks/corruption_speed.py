"""Speed of the whole corruption suite: all 19 corruptions × 5 severities of 10,000 CIFAR-10 test images.

Target: under 10 minutes on 2 cores. Prints images/s per corruption (over its 5 severities) and the total time.
The images are the JPEG copy of the CIFAR-10 test set (../shared/data/cifar10-jpeg/test.tar.gz).

Usage: nice -n 10 python benchmarks/corruption_speed.py [--images 10000] [--preset cifar] [--data PATH]
"""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_robust import corruptions  # noqa: E402
from keras_robust.datasets import load_cifar10_jpeg  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "cifar10-jpeg" / "test.tar.gz"
TARGET_SECONDS = 600


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--preset", default="cifar", choices=("cifar", "imagenet"))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()

    images, _, _ = load_cifar10_jpeg(args.data, limit=None if args.images >= 10_000 else args.images)
    print(f"{len(images)} images {images.shape[1:]} from {args.data.name} (JPEG copy of CIFAR-10), preset={args.preset}")
    corruptions.corrupt(images[:2], "frost", 1, seed=0)  # imports TensorFlow and reads the textures once
    total = 0.0
    print(f"{'corruption':<20}{'seconds':>10}{'images/s':>12}")
    for name in corruptions.names():
        start = time.perf_counter()
        for severity in range(1, 6):
            corruptions.corrupt(images, name, severity, preset=args.preset, seed=severity)
        seconds = time.perf_counter() - start
        total += seconds
        print(f"{name:<20}{seconds:>10.1f}{5 * len(images) / seconds:>12.0f}")
    verdict = "meets" if total < TARGET_SECONDS else "MISSES"
    print(f"total {total:.1f} s for 19 × 5 × {len(images)} images ({verdict} the {TARGET_SECONDS} s target)")


if __name__ == "__main__":
    main()
