"""DeepCorrect: filter ranking speed (batched vs naive) and inference cost of corrected models.

Ranks every filter of every Conv2D of the pretrained ResNet20 on CIFAR-10 JPEG
test images under AWGN (σ = 20) twice, with `rank_filters` (each layer's
activations and the channel-wise layers after it computed once, the rest of
the graph run on batches of swapped copies, batch normalization folded into
the convolutions) and `naive_rank_filters` (the
whole network once per filter), checks that the scores are identical and
prints both times. The inference cost of the corrected models is measured by
`benchmarks/deepcorrect_inference.py`.

    nice -n 10 .venv/bin/python benchmarks/deepcorrect_ranking_speed.py --images 1000
"""

import argparse
import time

import keras
import numpy as np

from keras_robust.applications import ResNet20
from keras_robust.datasets import load_cifar10_jpeg
from keras_robust.deepcorrect import naive_rank_filters, rank_filters
from keras_robust.corruptions import distort
from keras_robust.deepcorrect.graph import correction_point
from keras_robust.graph import cut
from keras_robust.deepcorrect.ranking import _plan
from keras_robust.utils import count_flops

def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/cifar10-jpeg")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--layers", default=None, help="comma-separated subset (default: every Conv2D)")
    parser.add_argument("--filter-batch", type=int, default=16)
    return parser.parse_args()


def multiply_adds(model, layers):
    """Per image: the naive loop, the rest of the graph after each ranked layer, and what runs per filter.

    `rank_filters` runs the channel-wise layers after a swap and the
    convolutions they feed once per image (plus one input channel of those
    convolutions per filter); the rest runs once per filter.
    """
    naive = rest = per_filter = 0
    for name in layers:
        width = model.get_layer(name).output.shape[-1]
        point, cut_tensors = cut(model, correction_point(model, name))
        naive += width * count_flops(model)
        rest += width * count_flops(keras.Model(cut_tensors, model.outputs))
        per_filter += width * count_flops(keras.Model(_plan(model, point)[0], model.outputs))
    return naive, rest, per_filter


def main():
    args = parse()
    images, labels, _ = load_cifar10_jpeg(args.data, "test", limit=args.images, seed=0)
    clean = images.astype("float32")
    distorted = distort(images, "deepcorrect/awgn", 20.0, seed=0)
    model = ResNet20(weights="cifar10")
    layers = args.layers.split(",") if args.layers else [
        l.name for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    filters = sum(model.get_layer(n).output.shape[-1] for n in layers)
    print(f"ResNet20, {len(layers)} layers, {filters} filters, {len(labels)} images (CIFAR-10 JPEG copy)")

    start = time.perf_counter()
    fast = rank_filters(model, layers, clean, distorted, labels, filter_batch=args.filter_batch)
    fast_time = time.perf_counter() - start
    print(f"rank_filters (batched):  {fast_time:8.1f} s", flush=True)
    start = time.perf_counter()
    naive = naive_rank_filters(model, layers, clean, distorted, labels)
    naive_time = time.perf_counter() - start
    print(f"naive loop:              {naive_time:8.1f} s")
    same = all(np.array_equal(fast.scores[n], naive.scores[n]) for n in layers)
    print(f"speed-up {naive_time / fast_time:.2f}x, identical scores: {same}")
    naive_ops, rest_ops, per_filter_ops = multiply_adds(model, layers)
    print(f"multiply-adds per image: naive {naive_ops / 1e9:.2f}G, rest of the graph after each layer "
          f"{rest_ops / 1e9:.2f}G ({naive_ops / rest_ops:.2f}x fewer), run per filter by rank_filters "
          f"{per_filter_ops / 1e9:.2f}G ({naive_ops / per_filter_ops:.2f}x fewer)")


if __name__ == "__main__":
    main()
