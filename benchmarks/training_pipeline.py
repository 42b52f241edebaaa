"""Is the input pipeline the bottleneck of training? Steps/s of the pipeline alone vs the training step.

Measures, in one run on CIFAR-shaped uint8 images with the ResNet recipe's batch of 128 and its augmentation
(4-pixel padding, random crop, horizontal flip):

1. the input pipeline alone (`training_dataset` iterated, batches materialized);
2. `model.fit` fed by that pipeline, as in a training run;
3. `model.fit` fed by one batch already in memory, repeated: the training step without any pipeline work.

The pipeline is not the bottleneck when (1) is many times (3), and (2) is close to (3).

    nice -n 10 .venv/bin/python benchmarks/training_pipeline.py --model ResNet20 --steps 20
"""

import argparse
import time

import keras
import numpy as np
import tensorflow as tf

from keras_robust.applications import BUILDERS
from keras_robust.training import RECIPES, steps_per_epoch, training_dataset


def rate(steps, run):
    started = time.perf_counter()
    run()
    return steps / (time.perf_counter() - started)


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ResNet20", choices=sorted(BUILDERS))
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2, help="Timed epochs of --steps steps (best kept).")
    args = parser.parse_args()

    recipe = RECIPES["resnet"]
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.images, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, args.images)
    steps = steps_per_epoch(args.images, recipe.batch_size)
    epochs = -(-(10 * args.steps + 2) // steps)  # enough batches for every measurement

    def pipeline():
        return training_dataset(images, labels, recipe.batch_size, epochs=epochs, seed=0, augment=True)

    batches = iter(pipeline())
    next(batches)  # warm-up: tracing, first prefetch
    pipeline_rate = rate(args.steps * 10, lambda: [next(batches)[0].numpy() for _ in range(args.steps * 10)])

    model = BUILDERS[args.model](weights=None, input_shape=(32, 32, 3), classes=10)
    model.compile(optimizer=recipe.optimizer(steps), loss="sparse_categorical_crossentropy")
    cached = tf.data.Dataset.from_tensors(next(iter(pipeline()))).repeat()
    fed = pipeline()

    def fit_rate(dataset):
        # Epochs after the first: the iterator, its threads and buffers are already up, as in a long run.
        timer = EpochTimer()
        model.fit(dataset, steps_per_epoch=args.steps, epochs=args.repeats + 1, verbose=0, shuffle=False,
                  callbacks=[timer])
        return args.steps / min(timer.seconds[1:])

    step_rate, fed_rate = fit_rate(cached), fit_rate(fed)

    print(f"{args.model}, batch {recipe.batch_size}, augmentation on, {args.images} CIFAR-shaped images in memory")
    print(f"input pipeline alone:                {pipeline_rate:8.1f} batches/s")
    print(f"training step, one batch in memory:  {step_rate:8.2f} steps/s")
    print(f"training step fed by the pipeline:   {fed_rate:8.2f} steps/s")
    print(f"pipeline / training step:            {pipeline_rate / step_rate:8.1f}x (>> 1: not the bottleneck)")
    print(f"fed by the pipeline / batch in memory: {fed_rate / step_rate:6.2f} (about 1: no time lost waiting for data)")

if __name__ == "__main__":
    main()
