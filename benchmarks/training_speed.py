"""Training throughput: bare steps against PyTorch, every training path against its bare step, Deepcorr against
Finetune and their multiply-adds. Everything in one run, with the fastest of alternated rounds.

1. Bare step: the recipe's training step (SGD with Nesterov momentum and coupled L2, cross-entropy) of ResNet20,
   ResNet20PP, LeNet-A and DenseNet-40-12 on one in-memory batch, Keras on the current backend against the same
   model in PyTorch (`keras_robust.applications.torch_reference`) in the same process. Target: >= 1.0x.
2. Paths: each training path of the package fed by its own input pipeline against the same compiled model fed by
   one batch already in memory (its bare step): `training.fit`'s recipe pipeline (crop and flip) and
   `fit_deepcorrect` for Finetune, Deepcorr, Deepcorr-b, Deepcorr-rc and Stability (the authors'
   rotation/shift/flip, half of each batch distorted), and the batch-norm recalibration pass. Target: >= 0.9x.
3. Deepcorr's bare step against Finetune's, beside their training multiply-adds (forward, input gradients from
   the first trainable layer on, weight gradients of the trainable layers). Target: time ratio <= 1.2x the
   multiply-add ratio.

    .venv/bin/python benchmarks/training_speed.py
    KERAS_BACKEND=jax .venv/bin/python benchmarks/training_speed.py --sections bare
"""

import argparse
import time

import keras
import numpy as np
import torch

from keras_robust import applications
from keras_robust.applications.torch_reference import TorchDenseNet, TorchLeNet, TorchResNet
from keras_robust.deepcorrect import (
    build_deepcorrect, finetune_copy, fit_deepcorrect, stability_model, to_rank_constrained,
)
from keras_robust.deepcorrect.pipeline import mixed_distortion_dataset
from keras_robust.deepcorrect.training import recalibrate_batch_norm
from keras_robust.training import RECIPES, training_dataset
from keras_robust.utils import count_flops
from timing import alternated, fastest, step_flops

# name: (Keras builder, PyTorch twin, input shape, recipe)
MODELS = {
    "ResNet20": (lambda: applications.ResNet20(weights=None), lambda: TorchResNet(20, False), (32, 32, 3), "resnet"),
    "ResNet20PP": (lambda: applications.ResNet20PP(weights=None), lambda: TorchResNet(20, True), (32, 32, 3),
                   "resnet"),
    "LeNet-A": (lambda: applications.LeNet("A"), lambda: TorchLeNet(), (28, 28, 1), "lenet"),
    "DenseNet-40-12": (lambda: applications.DenseNet40_12(weights=None), lambda: TorchDenseNet(40, 12, False),
                       (32, 32, 3), "densenet"),
}
POINTS = ["conv1"] + [f"layer{s}_{b}_add" for s in (1, 2, 3) for b in (0, 1, 2)]


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="+", default=["bare", "paths", "deepcorr"],
                        choices=["bare", "paths", "deepcorr"])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--rounds", type=int, default=4, help="alternated rounds (fastest call kept)")
    parser.add_argument("--seconds", type=float, default=2.0, help="least time of each timed round")
    parser.add_argument("--steps", type=int, default=30, help="steps of a timed epoch of a training path")
    return parser.parse_args()


def batch_of(shape, size, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (size, *shape)).astype("float32"), rng.integers(0, 10, size)


def keras_step(model, recipe, images, labels):
    model.compile(optimizer=recipe.optimizer(100), loss="sparse_categorical_crossentropy")
    return lambda: model.train_on_batch(images, labels)


def torch_step(module, recipe, images, labels):
    optimizer = torch.optim.SGD(module.parameters(), lr=recipe.learning_rate, momentum=recipe.momentum,
                                nesterov=True, weight_decay=recipe.weight_decay)
    x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy() / 255)
    y = torch.from_numpy(labels)
    module.train()

    def step():
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(module(x), y).backward()
        optimizer.step()

    return step


def bare(args):
    print(f"\n1. bare training step, Keras on {keras.backend.backend()} against PyTorch {torch.__version__} "
          f"({torch.get_num_threads()} threads), one in-memory batch, fastest of {args.rounds} alternated rounds")
    print("| model | batch | Keras img/s | PyTorch img/s | Keras / PyTorch (target >= 1.0) |\n|---|---|---|---|---|")
    for name in args.models:
        build, twin, shape, recipe_name = MODELS[name]
        recipe = RECIPES[recipe_name]
        images, labels = batch_of(shape, recipe.batch_size)
        runs = {"keras": keras_step(build(), recipe, images, labels), "torch": torch_step(twin(), recipe, images,
                                                                                          labels)}
        seconds = fastest(runs, args.rounds, args.seconds)
        rates = {k: recipe.batch_size / v for k, v in seconds.items()}
        print(f"| {name} | {recipe.batch_size} | {rates['keras']:.0f} | {rates['torch']:.0f} | "
              f"{rates['keras'] / rates['torch']:.2f} |", flush=True)


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)


def bare_epoch(model, batch, steps):
    """Seconds of the fastest of three epochs of `steps` steps on one batch already in memory (the model's
    compiled training step, no input pipeline)."""
    import tensorflow as tf

    timer = EpochTimer()
    model.fit(tf.data.Dataset.from_tensors(batch).repeat(), steps_per_epoch=steps, epochs=4, verbose=0,
              callbacks=[timer])
    return min(timer.seconds[1:])


def deepcorrect_models():
    base = applications.ResNet20()
    rng = np.random.default_rng(0)
    orders = {p: rng.permutation(base.get_layer(p).output.shape[-1]) for p in POINTS}
    bottleneck = build_deepcorrect(base, orders, 0.75, unit="bottleneck")
    ranks = {layer.name.removesuffix("_correction"): max(1, round(0.75 * layer.unit.depth))
             for layer in bottleneck.layers if hasattr(layer, "unit")}
    return base, {
        "Finetune": finetune_copy(base),
        "Deepcorr": build_deepcorrect(base, orders, 0.75, unit="full"),
        "Deepcorr-b": bottleneck,
        "Deepcorr-rc": to_rank_constrained(build_deepcorrect(base, orders, 0.75, unit="bottleneck"), ranks,
                                           target_flops=count_flops(base)),
        "Stability": stability_model(base)[0],
    }


def paths(args):
    print(f"\n2. training paths fed by their input pipelines against their bare step (Keras on "
          f"{keras.backend.backend()}, fastest of the timed epochs of {args.steps} steps)")
    print("| path | batch | fed img/s | bare img/s | fed / bare (target >= 0.9) |\n|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    recipe = RECIPES["resnet"]
    count = recipe.batch_size * args.steps
    images, labels = rng.integers(0, 256, (count, 32, 32, 3)).astype("uint8"), rng.integers(0, 10, count)
    model = applications.ResNet20(weights=None)
    model.compile(optimizer=recipe.optimizer(args.steps), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    timer = EpochTimer()
    model.fit(training_dataset(images, labels, recipe.batch_size, epochs=4, seed=0, augment=True),
              steps_per_epoch=args.steps, epochs=4, verbose=0, callbacks=[timer])
    batch = next(iter(training_dataset(images, labels, recipe.batch_size, epochs=1, seed=0, augment=True)))
    report("training.fit, ResNet recipe (ResNet20)", recipe.batch_size, count, min(timer.seconds[1:]),
           bare_epoch(model, batch, args.steps))

    size = 64
    count = size * args.steps
    images, labels = images[:count], labels[:count]
    _, models = deepcorrect_models()
    for distortion in ("awgn", "gaussian_blur"):
        for name, model in models.items():
            timer = EpochTimer()
            fit_deepcorrect(model, images, labels, distortion, epochs=4, batch_size=size, learning_rate=0.001,
                            warmup_epochs=0, callbacks=[timer])
            batch = next(iter(mixed_distortion_dataset(images, labels, distortion, batch_size=size, stop_step=1)))
            report(f"fit_deepcorrect {name}, {distortion}", size, count, min(timer.seconds[1:]),
                   bare_epoch(model, batch, args.steps))
    base = applications.ResNet20()
    batches = mixed_distortion_dataset(images, labels, "awgn", batch_size=size, stop_step=args.steps)
    batch = next(iter(batches))[0].numpy()
    recalibrate_batch_norm(base, batches, steps=2)  # trace
    started = time.perf_counter()
    recalibrate_batch_norm(base, batches)
    fed = time.perf_counter() - started
    forward = min(timed(lambda: [base(batch, training=True) for _ in range(args.steps)]) for _ in range(3))
    report("recalibrate_batch_norm (ResNet20)", size, count, fed, forward)


def timed(run):
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def report(name, batch, count, fed_seconds, bare_seconds):
    print(f"| {name} | {batch} | {count / fed_seconds:.0f} | {count / bare_seconds:.0f} | "
          f"{bare_seconds / fed_seconds:.2f} |", flush=True)


def deepcorr(args):
    print(f"\n3. DeepCorrect bare steps against Finetune's (ResNet20, ten correction points, beta 0.75, batch 64, "
          f"Keras on {keras.backend.backend()}, fastest of {args.rounds} alternated rounds)")
    print("| model | time / Finetune | training multiply-adds / Finetune | time ratio / multiply-add ratio "
          "(target <= 1.2) |\n|---|---|---|---|")
    _, models = deepcorrect_models()
    del models["Stability"]
    images, labels = batch_of((32, 32, 3), 64)
    runs = {}
    for name, model in models.items():
        model.compile(optimizer=keras.optimizers.SGD(0.001, momentum=0.9, nesterov=True),
                      loss="sparse_categorical_crossentropy")
        runs[name] = (lambda m: lambda: m.train_on_batch(images, labels))(model)
    ratios = alternated(runs, args.rounds, args.seconds)
    finetune_flops = step_flops(models["Finetune"])
    for name, ratio in ratios.items():
        flops = step_flops(models[name]) / finetune_flops
        print(f"| {name} | {ratio:.2f} | {flops:.2f} | {ratio / flops:.2f} |", flush=True)


def main():
    args = parse()
    print(f"Keras {keras.__version__} on {keras.backend.backend()}, PyTorch {torch.__version__}")
    for section in args.sections:
        globals()[section](args)


if __name__ == "__main__":
    main()
