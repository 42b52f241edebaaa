"""Speed of the transfer evaluation, measured in one run.

1. Feature extraction: images per second through the CIFAR-10 ResNet-20
   (global-pooling features, batch 128), on MNIST digits resized to 32x32.
2. The SVM stage of the protocol for 10 classes x 30 images (25 training +
   5 validation) plus 20 test images per class, 5 splits, C chosen among 5
   values: seconds for all splits, on the ResNet-20 features (64-d) and on
   synthetic 4096-d ReLU features (the size of AlexNet's fc6). Target:
   seconds, not minutes.

Usage: nice -n 10 python benchmarks/transfer_speed.py
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_robust.applications import ResNet20  # noqa: E402
from keras_robust.datasets import load_mnist_test  # noqa: E402
from keras_robust.transfer import FeatureExtractor, fit_images, make_splits  # noqa: E402
from keras_robust.transfer.protocol import fit_split_svms, split_accuracies  # noqa: E402
from keras_robust.transfer.svm import DEFAULT_CS  # noqa: E402

CLASSES, PER_CLASS, SPLITS = 10, 50, 5


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main():
    digits, labels = load_mnist_test()
    keep = np.concatenate([np.flatnonzero(labels == c)[:PER_CLASS] for c in range(CLASSES)])
    images, labels = fit_images(digits[keep], (32, 32), 3), labels[keep].astype("int64")
    extractor = FeatureExtractor(ResNet20(weights="cifar10"), batch_size=128)
    extractor(images[:128])  # warm-up: graph tracing
    features, seconds = timed(extractor, images)
    print(f"feature extraction: {len(images)} images in {seconds:.2f} s = {len(images) / seconds:.0f} images/s "
          f"({features.shape[1]}-d features of layer {extractor.layer})")

    splits = make_splits(labels, n_train=25, n_val=5, n_splits=SPLITS, n_test=20)
    # fc6-like: non-negative (ReLU), one random pattern per class plus per-image noise of twice its size.
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(CLASSES, 4096))
    random_fc6 = np.maximum(centres[labels] + 2 * rng.normal(size=(len(labels), 4096)), 0).astype("float32")
    for name, values in (("ResNet-20 features", features), ("random 4096-d features", random_fc6)):
        (scores, _), svm_seconds = timed(
            lambda: split_accuracies(fit_split_svms([values], labels, splits, DEFAULT_CS), values, labels, splits))
        print(f"SVM stage, {name}: {SPLITS} splits x {len(DEFAULT_CS)} C values in {svm_seconds:.2f} s "
              f"(mean per-class accuracy {np.mean(scores):.3f}); "
              f"{svm_seconds / seconds:.2f}x the extraction time of {len(images)} images")


if __name__ == "__main__":
    main()
