"""Inference throughput of exported ResNet20PP against exported ResNet20, in one run.

Both models (pretrained CIFAR-10 weights) are exported with
`keras_robust.export.export_saved_model`, reloaded with `tf.saved_model.load`,
and their `serve` functions are called on the same batch of 256 uint8 images,
alternately, so that both share the machine's noise. Target: ResNet20PP
throughput >= 0.9x ResNet20's.

Usage: python benchmarks/export_throughput.py [--repeats 20] [--batch-size 256]
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_robust.applications import ResNet20, ResNet20PP  # noqa: E402
from keras_robust.export import export_saved_model  # noqa: E402

TARGET = 0.9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()

    images = tf.constant(
        np.random.default_rng(0).integers(0, 256, (args.batch_size, 32, 32, 3), dtype=np.uint8)
    )
    loaded, served = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for builder in (ResNet20, ResNet20PP):
            path = os.path.join(folder, builder.__name__)
            export_saved_model(builder(weights="cifar10"), path)
            # Keep the loaded object: its variables die with it.
            loaded[builder.__name__] = tf.saved_model.load(path)
            served[builder.__name__] = loaded[builder.__name__].serve
        for serve in served.values():
            for _ in range(3):  # warm up
                serve(images)["probabilities"].numpy()
        seconds = {name: [] for name in served}
        for _ in range(args.repeats):
            for name, serve in served.items():
                start = time.perf_counter()
                serve(images)["probabilities"].numpy()
                seconds[name].append(time.perf_counter() - start)

    throughput = {name: args.batch_size / statistics.median(times) for name, times in seconds.items()}
    print(f"device: {tf.config.list_logical_devices()[-1].device_type}, "
          f"batch {args.batch_size}, {args.repeats} alternating calls each (median)")
    for name, value in throughput.items():
        print(f"{name:>10}: {value:9.1f} images/s")
    ratio = throughput["ResNet20PP"] / throughput["ResNet20"]
    verdict = "meets" if ratio >= TARGET else "misses"
    print(f"ResNet20PP / ResNet20 throughput: {ratio:.3f} ({verdict} the {TARGET} target)")


if __name__ == "__main__":
    main()
