"""DeepCorrect: filter ranking speed (batched vs naive) and inference cost of corrected models.

Ranks every filter of every Conv2D of the pretrained ResNet20 on CIFAR-10 JPEG
test images under AWGN (σ = 20) twice, with `rank_filters` (each layer's
activations and the channel-wise layers after it computed once, the rest of
the graph run on batches of swapped copies, batch normalization folded into
the convolutions) and `naive_rank_filters` (the
whole network once per filter), checks that the scores are identical and
prints both times. Then prints the FLOPs
and measured inference time of ResNet20 DeepCorrect models relative to the
base model, next to the paper's ratios (Tables III and IX).

    nice -n 10 .venv/bin/python benchmarks/deepcorrect_ranking_speed.py --images 1000
"""

import argparse
import time

import keras
import numpy as np

from keras_robust.applications import ResNet20
from keras_robust.datasets import load_cifar10_jpeg
from keras_robust.deepcorrect import build_deepcorrect, naive_rank_filters, rank_filters, to_rank_constrained
from keras_robust.corruptions import distort
from keras_robust.deepcorrect.graph import correction_point
from keras_robust.graph import cut
from keras_robust.deepcorrect.ranking import _plan
from keras_robust.utils import count_flops

PAPER_RATIOS = {  # FLOPs relative to the baseline, Tables III (AlexNet) and IX (ResNet18)
    "Deepcorr": (23.9 / 7.4, 3.5 / 1.8),
    "Deepcorr-b": (11.8 / 7.4, 2.9 / 1.8),
    "Deepcorr-rc units": ((7.4 + 2.5) / 7.4, (1.8 + 0.6) / 1.8),  # unit totals of Tables IV and X
    "Deepcorr-rc": (7.8 / 7.4, 1.8 / 1.8),
}
POINTS = ["conv1"] + [f"layer{s}_{b}_add" for s in (1, 2, 3) for b in (0, 1, 2)]


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/cifar10-jpeg")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--layers", default=None, help="comma-separated subset (default: every Conv2D)")
    parser.add_argument("--filter-batch", type=int, default=16)
    return parser.parse_args()


def seconds_per_image(model, images, repeats=3):
    model.predict(images[:64], verbose=0)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(images, batch_size=256, verbose=0)
        best = min(best, time.perf_counter() - start)
    return best / len(images)


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

    orders = {n: np.arange(model.get_layer(n).output.shape[-1]) for n in POINTS}
    full = build_deepcorrect(model, orders, 0.75, unit="full")
    bottleneck = build_deepcorrect(model, orders, 0.75, unit="bottleneck")
    depths = {l.name.removesuffix("_correction"): l.unit.depth for l in bottleneck.layers if hasattr(l, "unit")}
    ranks = {n: max(1, round(0.75 * d)) for n, d in depths.items()}
    base_flops, base_time = count_flops(model), seconds_per_image(model, clean)
    rc_units = to_rank_constrained(bottleneck, ranks)
    rc = to_rank_constrained(bottleneck, ranks, target_flops=base_flops)  # every 3x3 conv too
    print("\ninference cost relative to ResNet20 (beta = 0.75 after conv1 and every block)")
    print(f"{'model':17} {'FLOPs':>8} {'time':>8} {'paper AlexNet':>14} {'paper ResNet18':>15}")
    models = {"Deepcorr": full, "Deepcorr-b": bottleneck, "Deepcorr-rc units": rc_units, "Deepcorr-rc": rc}
    for name, corrected in models.items():
        flops = count_flops(corrected) / base_flops
        timing = seconds_per_image(corrected, clean) / base_time
        alexnet, resnet18 = PAPER_RATIOS[name]
        print(f"{name:17} {flops:8.2f} {timing:8.2f} {alexnet:14.2f} {resnet18:15.2f}")


if __name__ == "__main__":
    main()
