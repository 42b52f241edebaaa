"""Cross-domain transfer run of DeepCorrect Sec. V-A7 on real MNIST digits (docs/tutorials/transfer.md).

CIFAR-10-pretrained networks are fixed feature extractors (global-pooling
output); linear SVMs are trained on the features of the MNIST test digits
(shipped with the package, the official t10k files), grey digits replicated to
three channels and resized 28 -> 32. Gaussian blur and AWGN at DeepCorrect's
levels are applied after resizing, to training and test images alike.

    nice -n 10 .venv/bin/python scripts/transfer_mnist.py \
        [--model path/to/deepcorrect.keras --distortion gaussian_blur --output runs/transfer/mnist_blur.json]

By default the results go to scripts/transfer_mnist_results.json, the committed
file the tutorial's tables are generated from (docs/hooks/transfer_results.py):
every split's accuracy and chosen C, the protocol (splits, seed, images), the
distortions' full definitions (registry name, levels, every option) and the
run (command, seconds, commit, date), so a later change of a distortion shows
in the file, not only in the numbers.
"""

import argparse
import datetime
import inspect
import subprocess
import sys
import time
from pathlib import Path

from keras_robust.models import resolve_model
from keras_robust.transfer import (
    FeatureCache, FeatureExtractor, evaluate_transfer, open_source, resolve_distortion,
)

RESULTS = Path(__file__).resolve().parent / "transfer_mnist_results.json"


def definition(distortion):
    """The registry name, levels, description and every option in force (the function's defaults included)."""
    parameters = inspect.signature(distortion.function).parameters.values()
    defaults = {p.name: p.default for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}
    return {"name": distortion.name, "levels": list(distortion.levels), "level_name": distortion.level_name,
            "options": {**defaults, **dict(distortion.options)}, "description": distortion.description}


def commit():
    """The repository's commit and the tracked files of keras_robust/ and scripts/ that differ from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        changed = subprocess.run(["git", "diff", "--name-only", "HEAD", "--", "keras_robust", "scripts"],
                                 cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "uncommitted": None}
    return {"commit": head.stdout.strip(), "uncommitted": changed.stdout.split()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[], help="extra .keras models (e.g. DeepCorrect)")
    parser.add_argument("--distortion", action="append", choices=["gaussian_blur", "awgn"],
                        help="DeepCorrect distortion(s) to apply (default: both)")
    parser.add_argument("--n-test", type=int, default=50, help="test digits per class and split")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--svm-training", default="per_level", choices=["pooled", "clean", "per_level"],
                        help="per_level made the docs table; pooled is the paper's footnote 7")
    parser.add_argument("--output", default=str(RESULTS),
                        help="results JSON (default: the committed file the tutorial's tables come from)")
    parser.add_argument("--csv", action="store_true", help="also write the CSV beside the JSON")
    parser.add_argument("--cache", default="runs/transfer/features", help="feature cache folder")
    args = parser.parse_args()

    extractors = [
        FeatureExtractor(resolve_model(name, "cifar10"), name=f"{name}[cifar10]") for name in ("ResNet20", "ResNet20PP")
    ] + [FeatureExtractor(resolve_model(path), name=Path(path).stem) for path in args.model]
    distortions = [resolve_distortion(name) for name in args.distortion or ("gaussian_blur", "awgn")]
    code = commit()  # the code that computes the features, before anything can change it
    start = time.perf_counter()
    results = evaluate_transfer(
        extractors, open_source("mnist"), distortions, n_train=25, n_val=5, n_test=args.n_test,
        n_splits=args.splits, seed=0, svm_training=args.svm_training, cache=FeatureCache(args.cache), verbose=True,
    )
    seconds = time.perf_counter() - start
    results.protocol["distortions"] = [definition(d) for d in distortions]
    results.protocol["run"] = {
        "command": " ".join(["scripts/transfer_mnist.py", *sys.argv[1:]]), "seconds": round(seconds, 1),
        "conditions": 1 + sum(len(d.levels) for d in distortions), **code,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    output = Path(args.output)
    results.save(output, overwrite=True)
    if args.csv:
        results.save(output.with_suffix(".csv"), overwrite=True)
    print(f"\n{results.protocol}\n{seconds:.0f} s\n")
    print(results.to_markdown())


if __name__ == "__main__":
    main()
