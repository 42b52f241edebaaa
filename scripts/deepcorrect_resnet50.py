"""DeepCorrect on a `keras.applications` ResNet50 at 224 px, end to end, each step timed on this machine.

The ImageNet side of the DeepCorrect paper (AlexNet, ResNet18) on the ResNet50 that `keras.applications` builds:
images the package makes (the embedded CIFAR-10 sample's photos, resized to 224 x 224 with Pillow's bicubic filter),
the distortion at the paper's ImageNet levels, then

1. `rank_filters` at the correction points (Eq. 1 on `--rank-images` images and `--levels`),
2. `build_deepcorrect` with each unit form (full, bottleneck, rank-constrained; β = 0.75 at every point),
   its FLOPs and trainable parameters beside the paper's ResNet18 ratios (Tables IX-X), and the identity start
   checked (the corrected model's probabilities against the base's),
3. `fit_deepcorrect` for `--steps` steps of `--batch-size` (seconds per step),
4. `optimize_for_inference` (the serving form, its largest probability change),
5. `export_saved_model`, reloaded with `tf.saved_model.load` and compared with the Keras model.

ImageNet weights cannot be downloaded here, so the network has `--weights none` (random weights, 10 classes): the
times, FLOPs and parameter counts are what the run measures, not accuracies. With the weights file in Keras' cache,
`--weights imagenet` runs the same steps on the pretrained network (1,000 classes; the CIFAR labels then mean
nothing to it either, so rank on your own labelled images for a real ranking).

Every step's numbers are written to `--output` as soon as it ends; a step already in the file is not run again
(delete its entry to rerun it). The DeepCorrect tutorial's section on ResNet50 is generated from that file
(`docs/hooks/deepcorrect_resnet50.py`).

    TF_NUM_INTRAOP_THREADS=1 .venv/bin/python scripts/deepcorrect_resnet50.py
"""

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from keras_robust.atomic import atomic_output
from keras_robust.corruptions import get_distortion
from keras_robust.datasets import load_cifar10_sample
from keras_robust.deepcorrect import (
    FilterRanking,
    build_deepcorrect,
    fit_deepcorrect,
    optimize_for_inference,
    rank_filters,
    to_rank_constrained,
    trainable_parameters,
)
from keras_robust.deepcorrect.paper_models import RESNET18_DEEPCORRECT, resnet18_imagenet
from keras_robust.export import export_saved_model
from keras_robust.utils import count_flops

SIDE = 224
BETA = 0.75
DISTORTION = "deepcorrect-imagenet/gaussian_blur"
UNITS = ("full", "bottleneck", "rank_constrained")


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--weights", choices=("none", "imagenet"), default="none")
    add("--points", nargs="+", default=["conv1_relu", "conv2_block1_out"],
        help="correction points (layer names of keras.applications.ResNet50)")
    add("--images", type=int, default=16, help="224 px images made from the embedded CIFAR-10 sample")
    add("--rank-images", type=int, default=4, help="images the filters are ranked on")
    add("--levels", nargs="+", type=int, default=[3], help="levels (sigma) of the ImageNet Gaussian blur")
    add("--steps", type=int, default=4, help="training steps of the full-unit model")
    add("--batch-size", type=int, default=8)
    add("--output", default="scripts/deepcorrect_resnet50_results.json")
    return parser.parse_args()


def resized_sample(count):
    """`count` photos of the embedded CIFAR-10 sample, resized to SIDE x SIDE (bicubic), and their labels."""
    images, labels, _ = load_cifar10_sample()
    big = [np.asarray(Image.fromarray(image).resize((SIDE, SIDE), Image.BICUBIC)) for image in images[:count]]
    return np.stack(big), labels[:count]


class Results:
    def __init__(self, path, settings):
        self.path = Path(path)
        self.data = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.data["settings"] = settings
        self.data.setdefault("steps", {})
        self._write()

    def done(self, step):
        return step in self.data["steps"]

    def put(self, step, entry):
        self.data["steps"][step] = entry
        self._write()
        print(f"{step}: {json.dumps(entry)}", flush=True)

    def _write(self):
        with atomic_output(self.path, overwrite=True) as tmp:
            Path(tmp).write_text(json.dumps(self.data, indent=1) + "\n")


def max_change(a, b, images):
    images = images.astype("float32")
    return float(np.abs(a.predict(images, verbose=0) - b.predict(images, verbose=0)).max())


def main():
    args = parse()
    settings = {"model": "keras.applications.ResNet50", "weights": args.weights, "side": SIDE,
                "points": args.points, "beta": BETA, "distortion": DISTORTION, "levels": args.levels,
                "images": args.images, "rank_images": args.rank_images, "batch_size": args.batch_size,
                "backend": keras.backend.backend(), "machine": f"{platform.machine()}, {_cores()} cores"}
    results = Results(args.output, settings)
    images, labels = resized_sample(args.images)
    keras.utils.set_random_seed(0)
    weights = None if args.weights == "none" else "imagenet"
    base = keras.applications.ResNet50(weights=weights, classes=10 if weights is None else 1000)
    base_flops = count_flops(base)
    if not results.done("base"):
        results.put("base", {"flops": base_flops, "parameters": int(base.count_params())})

    distortion = get_distortion(DISTORTION)
    clean = images[:args.rank_images]
    distorted = [distortion.apply(clean, level, seed=0).astype("float32") for level in args.levels]
    clean = clean.astype("float32")
    saved = Path(args.output).with_suffix(".ranking.json")  # the ranking the later steps need, kept for a rerun
    if results.done("rank") and saved.is_file():
        ranking = FilterRanking.load(saved)
    else:
        started = time.perf_counter()
        ranking = rank_filters(base, args.points, clean, distorted, labels[:args.rank_images],
                               batch_size=args.rank_images)
        ranking.save(saved, overwrite=True)
        filters = {point: int(base.get_layer(point).output.shape[-1]) for point in args.points}
        results.put("rank", {"seconds": time.perf_counter() - started, "filters": filters,
                             "images": args.rank_images, "levels": len(args.levels)})

    models = {}
    for unit in UNITS:
        started = time.perf_counter()
        if unit == "rank_constrained":
            ranks = {p: max(1, int(BETA * base.get_layer(p).output.shape[-1]) // 2) for p in args.points}
            model = to_rank_constrained(models["bottleneck"], ranks, target_flops=base_flops)
        else:
            model = build_deepcorrect(base, ranking, BETA, unit=unit)
        seconds = time.perf_counter() - started
        models[unit] = model
        if not results.done(f"build {unit}"):
            results.put(f"build {unit}", {
                "seconds": seconds, "flops": count_flops(model), "flops_ratio": count_flops(model) / base_flops,
                "trainable_parameters": int(trainable_parameters(model)),
                "identity_start_max_change": max_change(model, base, images[:4])})

    if not results.done("fit"):
        started = time.perf_counter()
        fit_deepcorrect(models["full"], images[:args.steps * args.batch_size], labels[:args.steps * args.batch_size],
                        DISTORTION, epochs=1, batch_size=args.batch_size)
        seconds = time.perf_counter() - started
        results.put("fit", {"steps": args.steps, "batch_size": args.batch_size, "seconds": seconds,
                            "seconds_per_step": seconds / args.steps, "note": "the first step includes tracing"})

    served = None
    if not results.done("serving form"):
        started = time.perf_counter()
        served = optimize_for_inference(models["full"])
        results.put("serving form", {"seconds": time.perf_counter() - started, "flops": count_flops(served),
                                     "max_change": max_change(served, models["full"], images[:4])})

    if not results.done("export"):
        import tensorflow as tf

        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            export_saved_model(models["full"], Path(folder) / "served")
            seconds = time.perf_counter() - started
            reloaded = tf.saved_model.load(str(Path(folder) / "served"))
            probabilities = reloaded.serve(images[:4])["probabilities"].numpy()  # uint8 served as is
        change = float(np.abs(probabilities - models["full"].predict(images[:4].astype("float32"), verbose=0)).max())
        results.put("export", {"seconds": seconds, "reloaded_max_change": change})

    if not results.done("paper resnet18"):
        paper = resnet18_imagenet()
        flops = count_flops(paper)
        entry = {"flops": flops}
        for unit in ("full", "bottleneck"):
            orders = {p: np.arange(paper.get_layer(p).output.shape[-1]) for p in RESNET18_DEEPCORRECT["betas"]}
            corrected = build_deepcorrect(paper, orders, RESNET18_DEEPCORRECT["betas"], unit=unit,
                                          trainable_layers=RESNET18_DEEPCORRECT["trainable_layers"],
                                          **RESNET18_DEEPCORRECT[unit])
            entry[unit] = {"flops_ratio": count_flops(corrected) / flops,
                           "trainable_parameters": int(trainable_parameters(corrected))}
        results.put("paper resnet18", entry)


def _cores():
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
