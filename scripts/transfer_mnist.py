"""Cross-domain transfer run of DeepCorrect Sec. V-A7 on real MNIST digits (docs/tutorials/transfer.md).

CIFAR-10-pretrained networks are fixed feature extractors (global-pooling
output); linear SVMs are trained on the features of the MNIST test digits
(shipped with the package, the official t10k files), grey digits replicated to
three channels and resized 28 -> 32. Gaussian blur and AWGN at DeepCorrect's
levels are applied after resizing, to training and test images alike.

    nice -n 10 .venv/bin/python scripts/transfer_mnist.py \
        [--model path/to/deepcorrect.keras --distortion gaussian_blur --output runs/transfer/mnist_blur.json]
"""

import argparse
import time
from pathlib import Path

from keras_robust.models import resolve_model
from keras_robust.transfer import (
    FeatureCache, FeatureExtractor, evaluate_transfer, open_source, resolve_distortion,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[], help="extra .keras models (e.g. DeepCorrect)")
    parser.add_argument("--distortion", action="append", choices=["gaussian_blur", "awgn"],
                        help="DeepCorrect distortion(s) to apply (default: both)")
    parser.add_argument("--n-test", type=int, default=50, help="test digits per class and split")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--svm-training", default="per_level", choices=["pooled", "clean", "per_level"],
                        help="per_level made the docs table; pooled is the paper's footnote 7")
    parser.add_argument("--output", default="runs/transfer/mnist.json")
    args = parser.parse_args()

    extractors = [
        FeatureExtractor(resolve_model(name, "cifar10"), name=f"{name}[cifar10]") for name in ("ResNet20", "ResNet20PP")
    ] + [FeatureExtractor(resolve_model(path), name=Path(path).stem) for path in args.model]
    distortions = [resolve_distortion(name) for name in args.distortion or ("gaussian_blur", "awgn")]
    start = time.perf_counter()
    results = evaluate_transfer(
        extractors, open_source("mnist"), distortions, n_train=25, n_val=5, n_test=args.n_test,
        n_splits=args.splits, seed=0, svm_training=args.svm_training, cache=FeatureCache("runs/transfer/features"), verbose=True,
    )
    output = Path(args.output)
    results.save(output, overwrite=True)
    results.save(output.with_suffix(".csv"), overwrite=True)
    print(f"\n{results.protocol}\n{time.perf_counter() - start:.0f} s\n")
    print(results.to_markdown())


if __name__ == "__main__":
    main()
