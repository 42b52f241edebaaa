"""The paper's LeNet recipe (SGD Nesterov, lr 0.1, weight decay 5e-4) with `keras_robust.training.fit` on MNIST.

Trains LeNet-A, LeNet-PA with a BatchNormalization after the push-pull layer (`batch_norm=True`) and the LeNet-PA of
Table 1 (no normalization after it, the package default) with the recipe shortened to --epochs, at the paper's learning rate 0.1 and at 0.01,
for a few seeds, on the first --train digits of the MNIST test set (the only MNIST here), and reports the accuracy
on its last 2,000 digits. Prints a Markdown table.

    nice -n 10 .venv/bin/python scripts/lenet_recipe_mnist.py --train 8000 --epochs 10 --seeds 0 1
"""

import argparse
import dataclasses
import functools
import tempfile

from keras_robust.applications import LeNet
from keras_robust.datasets import load_mnist_test
from keras_robust.training import RECIPES, fit

MODELS = {
    "LeNet-A": functools.partial(LeNet, "A"),
    "LeNet-PA (BN after push-pull)": functools.partial(LeNet, "PA", batch_norm=True),
    "LeNet-PA naive (no BN)": functools.partial(LeNet, "PA"),
}
HELD_OUT = 2000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--learning-rates", type=float, nargs="+", default=[0.1, 0.01])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()

    images, labels = load_mnist_test()
    train = (images[:args.train], labels[:args.train])
    held_out = (images[-HELD_OUT:], labels[-HELD_OUT:])
    print(f"{args.train} training digits, {HELD_OUT} held out, LeNet recipe shortened to {args.epochs} epochs "
          f"(milestones {RECIPES['lenet'].shortened(args.epochs).milestones}), batch 128")
    print("| model | initial lr | " + " | ".join(f"held-out acc. seed {s}" for s in args.seeds) + " |")
    print("|---|---|" + "---|" * len(args.seeds))
    for name, build in MODELS.items():
        for learning_rate in args.learning_rates:
            recipe = dataclasses.replace(RECIPES["lenet"], learning_rate=learning_rate)
            accuracies = []
            for seed in args.seeds:
                run = fit(build, train, recipe, tempfile.mkdtemp(), validation=held_out, epochs=args.epochs,
                          seed=seed, verbose=0)
                accuracies.append(run.last["val_accuracy"])
            print(f"| {name} | {learning_rate:g} | " + " | ".join(f"{100 * a:.1f}%" for a in accuracies) + " |",
                  flush=True)


if __name__ == "__main__":
    main()
