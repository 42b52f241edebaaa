"""keras_robust.corruptions (preset "imagenet") against the `imagecorruptions` package, on the same 224×224 images.

Targets: at least 10× faster over the suite, and no corruption slower. Prints, per corruption, the seconds of both
over all 5 severities and all repeats, their ratio and, for the corruptions without randomness, the largest
difference of the outputs in grey levels. The images are CIFAR-10 test images (JPEG copy) enlarged to 224×224
bilinearly. Each corruption runs once on both sides before it is timed (caches, thread pool, first TensorFlow call),
and the two sides alternate severity by severity, so that load changes on a shared machine hit both alike.

`imagecorruptions` 1.1.2 is not a dependency: install it beside (`pip install imagecorruptions`, which brings
opencv-python and scikit-image). It predates NumPy 2 and scikit-image 0.19; `_import_imagecorruptions` bridges the
three names it needs (`np.float_`, `pkg_resources.resource_filename`, `gaussian(multichannel=)`), no more.

Usage: nice -n 10 python benchmarks/corruptions_vs_imagecorruptions.py [--images 20] [--repeats 3] [--data PATH]
"""

import argparse
import importlib.metadata
import importlib.util
import os
import sys
import time
import types
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_robust import corruptions  # noqa: E402
from keras_robust.datasets import load_cifar10_jpeg  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "cifar10-jpeg" / "test.tar.gz"
DETERMINISTIC = ("defocus_blur", "gaussian_blur", "brightness", "contrast", "jpeg_compression", "saturate")


def _import_imagecorruptions():
    spec = importlib.util.find_spec("imagecorruptions")
    if spec is None:
        raise SystemExit("imagecorruptions is not installed: pip install imagecorruptions")
    package_dir = Path(spec.submodule_search_locations[0])
    if not hasattr(np, "float_"):
        np.float_ = np.float64
    if "pkg_resources" not in sys.modules:
        shim = types.ModuleType("pkg_resources")
        shim.resource_filename = lambda module, name: str(package_dir / name)
        sys.modules["pkg_resources"] = shim
    import imagecorruptions
    from imagecorruptions import corruptions as reference
    from skimage.filters import gaussian

    def gaussian_with_multichannel(image, sigma=1, multichannel=None, **kwargs):
        if multichannel:
            kwargs["channel_axis"] = -1
        return gaussian(image, sigma=sigma, **kwargs)

    reference.gaussian = gaussian_with_multichannel
    return imagecorruptions


def enlarged_cifar_images(path, count):
    import tensorflow as tf

    images, _, _ = load_cifar10_jpeg(path, limit=count)
    resized = tf.image.resize(images, (224, 224), method="bilinear")
    return np.clip(np.round(resized.numpy()), 0, 255).astype(np.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()

    imagecorruptions = _import_imagecorruptions()
    images = enlarged_cifar_images(args.data, args.images)
    version = importlib.metadata.version("imagecorruptions")
    print(f"{len(images)} images 224×224×3 (CIFAR-10 JPEG copy, enlarged), {args.repeats} repeats, imagecorruptions {version}")
    rows = []
    for name in corruptions.names():
        corruptions.corrupt(images, name, 1, preset="imagenet", seed=0)
        imagecorruptions.corrupt(images[0], corruption_name=name, severity=1)
        ours_seconds = theirs_seconds = 0.0
        worst = 0
        for severity in [s for _ in range(args.repeats) for s in range(1, 6)]:
            start = time.perf_counter()
            ours = corruptions.corrupt(images, name, severity, preset="imagenet", seed=severity)
            ours_seconds += time.perf_counter() - start
            start = time.perf_counter()
            theirs = np.stack([imagecorruptions.corrupt(image, corruption_name=name, severity=severity) for image in images])
            theirs_seconds += time.perf_counter() - start
            worst = max(worst, int(np.abs(ours.astype(int) - np.uint8(theirs)).max()))
        difference = str(worst) if name in DETERMINISTIC else ""
        rows.append((name, ours_seconds, theirs_seconds, difference))
        print(f"  {name}: ours {ours_seconds:.2f} s, imagecorruptions {theirs_seconds:.2f} s", flush=True)

    print(f"{'corruption':<20}{'ours s':>9}{'imagecorr. s':>14}{'speed-up':>10}{'max |diff|':>12}")
    for name, ours_seconds, theirs_seconds, difference in rows:
        print(f"{name:<20}{ours_seconds:>9.2f}{theirs_seconds:>14.2f}{theirs_seconds / ours_seconds:>9.2f}×{difference:>12}")
    ours_total = sum(row[1] for row in rows)
    theirs_total = sum(row[2] for row in rows)
    slowest = min(rows, key=lambda row: row[2] / row[1])
    print(f"suite: ours {ours_total:.1f} s, imagecorruptions {theirs_total:.1f} s, speed-up {theirs_total / ours_total:.1f}×")
    print(f"smallest speed-up: {slowest[0]} {slowest[2] / slowest[1]:.2f}×")


if __name__ == "__main__":
    main()
