"""Real run of the training pipeline: ResNet20 and ResNet20PP on the CIFAR-10 JPEG copy.

Trains each model with the papers' ResNet recipe shortened to --epochs (milestones scaled) on a seeded subset of
the JPEG training images, validates each epoch on a subset of the JPEG test images, then evaluates the last and
best models on all 10,000 JPEG test images. Writes the run folders, results.json, the curves as a PNG and prints a
Markdown table. Resumable: run it again with the same arguments after an interruption.

    nice -n 10 .venv/bin/python scripts/train_cifar10_jpeg.py --train-limit 10000 --epochs 15

Issue 26's runs (all 50,000 training images, the 30-epoch cosine recipe, one results file for every model and seed,
each run's folder named after it):

    .venv/bin/python scripts/train_cifar10_jpeg.py --train-limit 50000 --recipe resnet-cosine --seed 0 \
        --models ResNet20 --results scripts/train_cifar10_jpeg_results.json --figure runs/cifar10_jpeg/curves.png

The JPEG images are re-encodings at about quality 75, not the lossless CIFAR-10: numbers from them say so.
"""

import argparse
import functools
import json
import time
from pathlib import Path

import keras

from keras_robust.applications import BUILDERS
from keras_robust.atomic import atomic_output
from keras_robust.datasets import load_cifar10_jpeg
from keras_robust.training import RECIPES, fit

MODELS = ("ResNet20", "ResNet20PP")


def plot(runs, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, rows in runs.items():
        epochs = [row["epoch"] + 1 for row in rows]
        line, = axes[0].plot(epochs, [row["loss"] for row in rows], label=f"{name} train")
        axes[0].plot(epochs, [row["val_loss"] for row in rows], "--", color=line.get_color(), label=f"{name} test")
        axes[1].plot(epochs, [100 * row["accuracy"] for row in rows], color=line.get_color(), label=f"{name} train")
        axes[1].plot(epochs, [100 * row["val_accuracy"] for row in rows], "--", color=line.get_color(),
                     label=f"{name} test")
    axes[0].set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    axes[1].set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy (CIFAR-10 JPEG copy)")
    axes[1].axhline(10, color="gray", lw=0.8, ls=":")
    for axis in axes:
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    with atomic_output(path, overwrite=True, suffix=".png") as tmp:
        figure.savefig(tmp, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/cifar10-jpeg")
    parser.add_argument("--train-limit", type=int, default=10000)
    parser.add_argument("--validation-limit", type=int, default=2000)
    parser.add_argument("--recipe", default="resnet", choices=sorted(RECIPES))
    parser.add_argument("--epochs", type=int, default=None, help="shorten the recipe (default: its own length)")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="runs/cifar10_jpeg")
    parser.add_argument("--results", default=None, help="results file to update run by run (default: in --output)")
    parser.add_argument("--figure", default="docs/img/training_cifar10_jpeg.png")
    args = parser.parse_args()
    recipe = RECIPES[args.recipe]
    epochs = args.epochs or recipe.epochs
    results_path = Path(args.results or Path(args.output) / "results.json")
    results = {}

    train_images, train_labels, _ = load_cifar10_jpeg(args.data, "train", limit=args.train_limit, seed=args.seed)
    test_images, test_labels, _ = load_cifar10_jpeg(args.data, "test")
    validation = load_cifar10_jpeg(args.data, "test", limit=args.validation_limit, seed=args.seed)[:2]
    runs = {}
    for name in args.models:
        key = name if args.results is None else f"{name}_{args.recipe}_e{epochs}_s{args.seed}"
        output = Path(args.output) / (name if args.results is None else key)
        started = time.perf_counter()
        rows = fit(
            functools.partial(BUILDERS[name], weights=None), (train_images, train_labels), recipe, output,
            validation=validation, epochs=epochs, seed=args.seed, verbose=2,
        ).history
        runs[name] = rows
        scores = {}
        for kind in ("last", "best"):
            model = keras.saving.load_model(output / f"{kind}.keras", safe_mode=True)
            scores[kind] = model.evaluate(test_images, test_labels, batch_size=500, verbose=0)[1]
        results = json.loads(results_path.read_text()) if results_path.is_file() else {}  # others' runs too
        results[key] = {
            "model": name, "recipe": args.recipe, "seed": args.seed, "train_images": len(train_labels),
            "validation_images": len(validation[1]), "test_images": len(test_labels), "epochs": epochs,
            "seconds_this_call": round(time.perf_counter() - started, 1),
            "seconds_per_epoch": [row["seconds"] for row in rows],
            "test_accuracy_last": scores["last"], "test_accuracy_best": scores["best"],
            "history": rows,
        }
        with atomic_output(results_path, overwrite=True) as tmp:  # each finished run lands at once
            tmp.write_text(json.dumps(results, indent=1))
    plot(runs, args.figure)

    print(f"\n{len(train_labels)} JPEG training images, {epochs} epochs (recipe {args.recipe}), seed "
          f"{args.seed}; accuracy on all {len(test_labels)} JPEG test images")
    print("| model | train acc. (last epoch) | test acc. (last) | test acc. (best on validation subset) | s/epoch |")
    print("|---|---|---|---|---|")
    for key, result in results.items():
        if result.get("seed", args.seed) != args.seed:
            continue
        last = result["history"][-1]
        per_epoch = sorted(result["seconds_per_epoch"])[len(result["seconds_per_epoch"]) // 2]
        print(f"| {key} | {100 * last['accuracy']:.1f}% | {100 * result['test_accuracy_last']:.1f}% | "
              f"{100 * result['test_accuracy_best']:.1f}% | {per_epoch:.0f} |")


if __name__ == "__main__":
    main()
