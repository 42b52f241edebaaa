"""Real run of the training pipeline: ResNet20 and ResNet20PP on the CIFAR-10 JPEG copy.

Trains each model with the papers' ResNet recipe shortened to --epochs (milestones scaled) on a seeded subset of
the JPEG training images, validates each epoch on a subset of the JPEG test images, then evaluates the last and
best models on all 10,000 JPEG test images. Writes the run folders, results.json, the curves as a PNG and prints a
Markdown table. Resumable: run it again with the same arguments after an interruption.

    nice -n 10 .venv/bin/python scripts/train_cifar10_jpeg.py --train-limit 10000 --epochs 15

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
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="runs/cifar10_jpeg")
    parser.add_argument("--figure", default="docs/img/training_cifar10_jpeg.png")
    args = parser.parse_args()

    train_images, train_labels, _ = load_cifar10_jpeg(args.data, "train", limit=args.train_limit, seed=args.seed)
    test_images, test_labels, _ = load_cifar10_jpeg(args.data, "test")
    validation = load_cifar10_jpeg(args.data, "test", limit=args.validation_limit, seed=args.seed)[:2]
    results, runs = {}, {}
    for name in MODELS:
        output = Path(args.output) / name
        started = time.perf_counter()
        _, rows = fit(
            functools.partial(BUILDERS[name], weights=None), (train_images, train_labels), RECIPES["resnet"], output,
            validation=validation,
            epochs=args.epochs, seed=args.seed, verbose=2,
        )
        runs[name] = rows
        scores = {}
        for kind in ("last", "best"):
            model = keras.saving.load_model(output / f"{kind}.keras", safe_mode=True)
            scores[kind] = model.evaluate(test_images, test_labels, batch_size=500, verbose=0)[1]
        results[name] = {
            "train_images": len(train_labels), "validation_images": len(validation[1]), "epochs": args.epochs,
            "seconds_this_call": round(time.perf_counter() - started, 1),
            "seconds_per_epoch": [row["seconds"] for row in rows],
            "test_accuracy_last": scores["last"], "test_accuracy_best": scores["best"],
            "history": rows,
        }
    with atomic_output(Path(args.output) / "results.json", overwrite=True) as tmp:
        tmp.write_text(json.dumps(results, indent=1))
    plot(runs, args.figure)

    print(f"\n{args.train_limit} JPEG training images, {args.epochs} epochs (ResNet recipe shortened), seed "
          f"{args.seed}; accuracy on all {len(test_labels)} JPEG test images")
    print("| model | train acc. (last epoch) | test acc. (last) | test acc. (best on validation subset) | s/epoch |")
    print("|---|---|---|---|---|")
    for name, result in results.items():
        last = result["history"][-1]
        per_epoch = sorted(result["seconds_per_epoch"])[len(result["seconds_per_epoch"]) // 2]
        print(f"| {name} | {100 * last['accuracy']:.1f}% | {100 * result['test_accuracy_last']:.1f}% | "
              f"{100 * result['test_accuracy_best']:.1f}% | {per_epoch:.0f} |")


if __name__ == "__main__":
    main()
