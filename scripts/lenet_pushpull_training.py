"""Why a naive push-pull LeNet does not train, measured.

Trains LeNet-A and LeNet-PA variants on the embedded MNIST test set (first
part for training, the rest held out) with the paper's SGD recipe shortened
to a few epochs, and prints, for each: the held-out accuracy, and statistics
of the first layer's response on held-out digits at initialization and after
training (share of negative outputs, share of units that the next ReLU
zeroes, mean pull / mean push magnitude).

    nice -n 10 .venv/bin/python scripts/lenet_pushpull_training.py --epochs 3
"""

import argparse
import time

import keras
import numpy as np

from keras_robust.applications import LeNet
from keras_robust.datasets import load_mnist_test
from keras_robust.training.recipes import RECIPES


def first_layer_stats(model, images):
    """Statistics of conv1's response (before any normalization) on `images`."""
    conv1 = model.get_layer("conv1")
    probe = keras.Model(model.input, conv1.output)
    response = np.asarray(probe.predict(images, verbose=0))
    stats = {"negative": float(np.mean(response < 0)), "std": float(response.std())}
    if hasattr(conv1, "pull_weights"):
        kernel = conv1.kernel
        stats["pull/push kernel mass"] = float(
            np.abs(np.asarray(conv1.pull_weights())).sum() / np.abs(np.asarray(kernel)).sum()
        )
        normalized = keras.Model(model.input, conv1.input)
        x = normalized.predict(images, verbose=0)
        push = np.maximum(np.asarray(keras.ops.conv(x, kernel, padding="same")), 0)
        pull = np.maximum(np.asarray(keras.ops.conv(x, conv1.pull_weights(), padding="same")), 0)
        stats["mean pull / mean push"] = float(pull.mean() / max(push.mean(), 1e-12))
    try:
        relu_input = keras.Model(model.input, model.get_layer("relu1").input)
        stats["zeroed by relu1"] = float(np.mean(np.asarray(relu_input.predict(images, verbose=0)) <= 0))
    except ValueError:
        pass
    return stats


def run(name, build, train, held_out, epochs, learning_rate, seed):
    keras.utils.set_random_seed(seed)
    model = build()
    recipe = RECIPES["lenet"].shortened(epochs)
    recipe = type(recipe)(**{**recipe.__dict__, "learning_rate": learning_rate})
    steps = int(np.ceil(len(train[0]) / recipe.batch_size))
    model.compile(recipe.optimizer(steps), "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = first_layer_stats(model, held_out[0][:500])
    start = time.perf_counter()
    history = model.fit(*train, batch_size=recipe.batch_size, epochs=epochs, verbose=0, shuffle=True)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(*held_out, verbose=0)[1]
    after = first_layer_stats(model, held_out[0][:500])
    losses = ", ".join(f"{loss:.3f}" for loss in history.history["loss"])
    print(f"\n{name} (lr {learning_rate}, seed {seed}, {epochs} epochs, {seconds:.0f} s): "
          f"held-out accuracy {100 * accuracy:.2f}%", flush=True)
    print(f"  training loss per epoch: {losses}")
    print("  conv1 at init:  " + ", ".join(f"{k} {v:.3g}" for k, v in before.items()))
    print("  conv1 trained:  " + ", ".join(f"{k} {v:.3g}" for k, v in after.items()))
    return 100 * accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train", type=int, default=8000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--learning-rates", type=float, nargs="+", default=[0.1, 0.01])
    args = parser.parse_args()
    images, labels = load_mnist_test()
    train = (images[: args.train], labels[: args.train])
    held_out = (images[args.train :], labels[args.train :])
    models = {
        "LeNet-A": lambda: LeNet("A"),
        "LeNet-PA": lambda: LeNet("PA"),
        "LeNet-A + BN": lambda: LeNet("A", batch_norm=True),
        "LeNet-PA + BN": lambda: LeNet("PA", batch_norm=True),
    }
    table = {}
    for name, build in models.items():
        for learning_rate in args.learning_rates:
            table[name, learning_rate] = [
                run(name, build, train, held_out, args.epochs, learning_rate, seed) for seed in args.seeds
            ]
    print(f"\n| model | learning rate | held-out accuracy (%), seeds {args.seeds} |\n|---|---|---|")
    for (name, learning_rate), accuracies in table.items():
        print(f"| {name} | {learning_rate} | {', '.join(f'{a:.1f}' for a in accuracies)} |")


if __name__ == "__main__":
    main()
