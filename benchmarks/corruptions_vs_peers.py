"""keras_robust.corruptions against two peers, `imagecorruptions` and `corrupt-tta`, per corruption, at 224 and 32 px.

Targets: no corruption slower than either peer at either size, and the suite at 224 px at least 5× faster
than corrupt-tta. Prints, per corruption and size, milliseconds per image of the three (ours on the whole batch
with its threads, the peers one image at a time, as they are made to be called), the peers' times over ours, and
at 224 px the largest difference in grey levels between ours and imagecorruptions (the ImageNet-C generator's code)
for the corruptions without randomness. At 224 px ours uses the `imagenet` preset, at 32 px the `cifar` preset; the
peers have only ImageNet-C's parameters, used at both sizes. The images are the embedded CIFAR-10 sample (32×32),
enlarged bilinearly for 224 px. Each corruption runs once on every side before it is timed, and the three sides
alternate severity by severity, so that load changes on a shared machine hit all alike; with `--repeats R` each
severity runs R times on every side, alternating, and the fastest of the R counts (load only ever adds time).
imagecorruptions is slow (glass blur takes seconds per image), so it corrupts only the first `--peer-images` images
of each batch: times are per image.

Neither peer is a dependency; install them beside: `pip install imagecorruptions corrupt-tta==0.1.7` (they bring
opencv-python and scikit-image). imagecorruptions 1.1.2 predates NumPy 2 and scikit-image 0.19;
`_import_imagecorruptions` bridges the three names it needs (`np.float_`, `pkg_resources.resource_filename`,
`gaussian(multichannel=)`), no more.

Usage: nice -n 10 python benchmarks/corruptions_vs_peers.py [--images 8] [--small-images 64] [--peer-images 2]
"""

import argparse
import importlib.metadata
import importlib.util
import os
import platform
import sys
import time
import types
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_robust import corruptions  # noqa: E402
from keras_robust.datasets import load_cifar10_sample  # noqa: E402

DETERMINISTIC = ("defocus_blur", "gaussian_blur", "brightness", "contrast", "jpeg_compression", "saturate")
INSTALL = "pip install imagecorruptions corrupt-tta==0.1.7"


def _import_imagecorruptions():
    spec = importlib.util.find_spec("imagecorruptions")
    if spec is None:
        raise SystemExit(f"imagecorruptions is not installed; this benchmark needs both peers: {INSTALL}")
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


def _import_corrupt_tta():
    if importlib.util.find_spec("corrupt_tta") is None:
        raise SystemExit(f"corrupt-tta is not installed; this benchmark needs both peers: {INSTALL}")
    import corrupt_tta

    return corrupt_tta


def _per_image(module, name):
    """A peer's corruption of a list of images, ``None`` results where it fails on that size."""

    def run(images, severity):
        return np.stack([np.uint8(module.corrupt(image, corruption_name=name, severity=severity)) for image in images])

    return run


def time_corruption(name, images, preset, peers, peer_images, repeats):
    """Seconds per image of ours and each peer (``nan`` where a peer fails), and the largest difference from the
    first peer on the deterministic corruptions."""
    sides = {"ours": lambda x, s: corruptions.corrupt(x, name, s, preset=preset, seed=s)}
    counts = {"ours": len(images)}
    for label, module in peers.items():
        sides[label] = _per_image(module, name)
        counts[label] = peer_images if label == "imagecorruptions" else len(images)
    failed = set()
    for label, run in sides.items():  # warm-up: imports, caches, thread pool, first TensorFlow call
        try:
            run(images[:1], 1)
        except Exception as error:  # a peer that cannot corrupt this size is reported, not timed
            failed.add(label)
            print(f"  {label} fails on {name} at {images.shape[1]} px: {type(error).__name__}: {error}", flush=True)
    # Ours caches what depends only on the size and severity (brightness and saturate tables, zoom blur's sparse
    # operator): build them all before timing, so every side is timed in its steady state (the peers cache nothing).
    for severity in range(2, 6):
        sides["ours"](images[:1], severity)
    seconds = dict.fromkeys(sides, 0.0)
    worst = 0
    for severity in range(1, 6):
        fastest = dict.fromkeys(sides, np.inf)
        for _ in range(repeats):
            outputs = {}
            for label, run in sides.items():
                if label in failed:
                    continue
                start = time.perf_counter()
                outputs[label] = run(images[: counts[label]], severity)
                fastest[label] = min(fastest[label], time.perf_counter() - start)
            if "imagecorruptions" in outputs:
                theirs = outputs["imagecorruptions"]
                worst = max(worst, int(np.abs(outputs["ours"][: len(theirs)].astype(int) - theirs).max()))
        for label in sides:
            seconds[label] += fastest[label]
    per_image = {label: np.nan if label in failed else seconds[label] / (counts[label] * 5) for label in sides}
    return per_image, worst


def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def enlarged(images, size):
    import tensorflow as tf

    resized = tf.image.resize(images, (size, size), method="bilinear")
    return np.clip(np.round(resized.numpy()), 0, 255).astype(np.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8, help="images of 224×224 (ours and corrupt-tta)")
    parser.add_argument("--small-images", type=int, default=64, help="images of 32×32 (ours and corrupt-tta)")
    parser.add_argument("--peer-images", type=int, default=2, help="images imagecorruptions corrupts per batch")
    parser.add_argument("--repeats", type=int, default=1, help="runs per severity and side; the fastest counts")
    parser.add_argument("--only", nargs="*", default=None, help="a subset of the corruptions")
    args = parser.parse_args()

    peers = {"imagecorruptions": _import_imagecorruptions(), "corrupt-tta": _import_corrupt_tta()}
    versions = {name: _version(name) for name in ("imagecorruptions", "corrupt-tta", "numpy", "pillow", "opencv-python", "opencv-python-headless", "tensorflow")}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, {cores} cores, "
          + ", ".join(f"{name} {version}" for name, version in versions.items()))
    sample = load_cifar10_sample()[0]
    names = args.only or corruptions.names()
    totals = {}
    for size, preset, count in ((224, "imagenet", args.images), (32, "cifar", args.small_images)):
        images = enlarged(sample[:count], size) if size != 32 else sample[:count]
        peer_images = min(args.peer_images if size == 224 else 4 * args.peer_images, count)
        print(f"\n{count} images {size}×{size}, preset {preset!r}, imagecorruptions on {peer_images}; ms per image")
        print(f"{'corruption':<20}{'ours':>9}{'imagecorr.':>12}{'corrupt-tta':>13}{'vs imagecorr.':>15}{'vs tta':>9}{'max |diff|':>12}")
        totals[size] = dict.fromkeys(("ours", *peers), 0.0)
        for name in names:
            per_image, worst = time_corruption(name, images, preset, peers, peer_images, args.repeats)
            for label, value in per_image.items():
                totals[size][label] += value
            difference = str(worst) if name in DETERMINISTIC and size == 224 else ""
            ratios = [per_image[label] / per_image["ours"] for label in peers]
            print(f"{name:<20}{1e3 * per_image['ours']:>9.2f}{1e3 * per_image['imagecorruptions']:>12.2f}"
                  f"{1e3 * per_image['corrupt-tta']:>13.2f}{ratios[0]:>14.2f}×{ratios[1]:>8.2f}×{difference:>12}", flush=True)
    for size, total in totals.items():
        print(f"suite at {size} px (ms per image, summed over the corruptions; nan where a peer failed): ours "
              f"{1e3 * total['ours']:.1f}, imagecorruptions {1e3 * total['imagecorruptions']:.1f} "
              f"({total['imagecorruptions'] / total['ours']:.1f}×), corrupt-tta {1e3 * total['corrupt-tta']:.1f} "
              f"({total['corrupt-tta'] / total['ours']:.1f}×)")


if __name__ == "__main__":
    main()
