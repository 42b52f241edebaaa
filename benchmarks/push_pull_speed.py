"""Cost of the push-pull layer, as ratios measured in one run (TensorFlow backend).

1. PushPull2D forward+backward (batch 128, 32x32x3 -> 16 filters, 3x3 push, 7x7 pull)
   against two plain Conv2D layers of the push and pull kernel sizes. Target: <= 1.25.
2. One ResNet20PP training step against one ResNet20 step, measured alternately.
   Target: <= 1.10.

Usage: python benchmarks/push_pull_speed.py [--repeats 30]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_robust.layers import PushPull2D  # noqa: E402


def forward_backward_step(layers):
    variables = [v for layer in layers for v in layer.trainable_variables]

    @tf.function(jit_compile=False)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.add_n([tf.reduce_sum(tf.square(layer(x))) for layer in layers])
        return tape.gradient(loss, variables + [x])

    return step


def train_step(model):
    optimizer = keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function(jit_compile=False)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step


def alternate(steps, args, repeats):
    """Median seconds per call of each step, calls interleaved to share the machine's noise."""
    for step in steps.values():
        step(*args)  # trace and warm up
        step(*args)
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            result = step(*args)
            tf.nest.map_structure(lambda t: t.numpy(), result)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    x = tf.constant(rng.uniform(size=(128, 32, 32, 3)).astype("float32"))
    push_pull = PushPull2D(16, 3, padding="same")
    push = keras.layers.Conv2D(16, 3, padding="same", use_bias=False)
    pull = keras.layers.Conv2D(16, 7, padding="same", use_bias=False)
    for layer in (push_pull, push, pull):
        layer.build(x.shape)
    times = alternate(
        {"push_pull": forward_backward_step([push_pull]), "two_convs": forward_backward_step([push, pull])},
        (x,),
        args.repeats,
    )
    layer_ratio = times["push_pull"] / times["two_convs"]
    print(f"PushPull2D fwd+bwd: {times['push_pull'] * 1e3:.1f} ms, 3x3 + 7x7 Conv2D: "
          f"{times['two_convs'] * 1e3:.1f} ms, ratio {layer_ratio:.3f} (target <= 1.25)")

    from keras_robust.applications import ResNet20, ResNet20PP

    images = tf.constant(rng.uniform(0, 255, size=(128, 32, 32, 3)).astype("float32"))
    labels = tf.constant(rng.integers(0, 10, size=128))
    models = {
        "ResNet20PP": ResNet20PP(weights=None, classifier_activation=None),
        "ResNet20": ResNet20(weights=None, classifier_activation=None),
    }
    times = alternate({name: train_step(model) for name, model in models.items()}, (images, labels), args.repeats)
    step_ratio = times["ResNet20PP"] / times["ResNet20"]
    print(f"training step (batch 128): ResNet20PP {times['ResNet20PP'] * 1e3:.1f} ms, ResNet20 "
          f"{times['ResNet20'] * 1e3:.1f} ms, ratio {step_ratio:.3f} (target <= 1.10)")


if __name__ == "__main__":
    main()
