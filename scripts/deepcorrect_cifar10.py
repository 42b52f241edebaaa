"""DeepCorrect on CIFAR-10 (JPEG copy): ResNet20 and ResNet20PP under Gaussian blur and AWGN.

For each model and distortion: filters ranked on `--rank-images` training
images (Eq. 1; drawn with the first seed, the ranking serves every seed);
for each seed: Baseline, BN recalibration (batch-norm
statistics re-estimated on the training batches, no weight trained),
Finetune, Stability, Deepcorr, Deepcorr-b, Deepcorr-rc (Deepcorr-b's units
and every 3×3 convolution decomposed to ResNet20's FLOPs, Sec. IV-C) and
Deepcorr-b + BN recal. (the frozen network's statistics re-estimated before
the units train). Top-1 averaged over the clean test images and the six
CIFAR levels (Table II). Fig. 7: Deepcorr on the least instead of the most
susceptible filters; Fig. 8: top-1 against training steps, Deepcorr and
Finetune. Training follows the paper (`fit_deepcorrect` defaults).

Every sample count is a flag. Runs on any Keras backend (TensorFlow is not
needed: the JPEGs decode with Pillow). Writes a JSON file and a Markdown
file of tables (`--output`, `--markdown`):

    KERAS_BACKEND=jax python scripts/deepcorrect_cifar10.py --data ../shared/data/cifar10-jpeg \\
        --rank-images 1000 --train-images 50000 --train-samples 100000 --test-images 2000 --seeds 0 1
"""

import argparse
import json
import time

import keras
import numpy as np

from keras_robust import applications
from keras_robust.atomic import atomic_output
from keras_robust.datasets import load_cifar10_jpeg
from keras_robust.deepcorrect import (
    bn_recalibrated_copy, build_deepcorrect, finetune_copy, fit_deepcorrect, rank_filters,
    stability_model, to_rank_constrained, trainable_parameters,
)
from keras_robust.deepcorrect.batches import MixedDistortionBatches
from keras_robust.deepcorrect.decomposition import ranks_for_flops
from keras_robust.deepcorrect.distortions import DISTORTIONS, distort_levels, resolve
from keras_robust.deepcorrect.evaluation import AccuracyCurve, distorted_sets, top1_over_levels
from keras_robust.utils import count_flops

# As ResNet18 in the paper: after the stem (its batch norm) and after every
# skip-connection merge, 75% of the filters corrected.
POINTS = ["conv1"] + [f"layer{s}_{b}_add" for s in (1, 2, 3) for b in (0, 1, 2)]
BETA = 0.75
METHODS = ["Baseline", "BN recal.", "Finetune", "Stability", "Deepcorr", "Deepcorr-b", "Deepcorr-rc",
           "Deepcorr-b + BN recal.", "Deepcorr least"]


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--data", default="../shared/data/cifar10-jpeg", help="folder with train.tar.gz and test.tar.gz")
    add("--models", nargs="+", default=["ResNet20", "ResNet20PP"])
    add("--distortions", nargs="+", default=["gaussian_blur", "awgn"], choices=sorted(DISTORTIONS))
    add("--methods", nargs="+", default=METHODS, choices=METHODS)
    add("--seeds", nargs="+", type=int, default=[0, 1])
    add("--rank-images", type=int, default=1000, help="training images the filters are ranked on")
    add("--train-images", type=int, default=50000, help="distinct training images")
    add("--train-samples", type=int, default=100000, help="images seen per trained model (epochs × images)")
    add("--test-images", type=int, default=2000)
    add("--batch-size", type=int, default=64)
    add("--workers", type=int, default=1, help="threads preparing the training batches")
    add("--unit-learning-rate", type=float, default=0.1, help="the paper's rate for correction units")
    add("--finetune-learning-rate", type=float, default=0.01,
        help="10× below the pretraining rate, as the paper (0.001 for AlexNet) and the authors' CIFAR code")
    add("--warmup-epochs", type=float, default=1.0, help="epochs of the units at a tenth of their rate")
    add("--curve-points", type=int, default=8, help="Fig. 8: measurements over the training of Deepcorr/Finetune")
    add("--curve-images", type=int, default=500, help="Fig. 8: test images of each measurement")
    add("--output", default="deepcorrect_cifar10.json")
    add("--markdown", default="deepcorrect_cifar10.md")
    add("--overwrite", action="store_true")
    return parser.parse_args()


def write(path, text, overwrite=True):
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(text)


class Run:
    """One model, distortion and seed: its data, ranking and trained methods."""

    def __init__(self, args, base, distortion, seed, data, log, ranking=None):
        self.args, self.base, self.distortion, self.seed, self.log = args, base, distortion, seed, log
        self.ranking = ranking  # the first seed's, reused: the seeds vary the training
        train_x, train_y, test_x, test_y = data
        rng = np.random.default_rng([seed, 1])
        chosen = rng.permutation(len(train_x))
        self.train_x, self.train_y = train_x[chosen[:args.train_images]], train_y[chosen[:args.train_images]]
        rank = chosen[:args.rank_images]
        self.rank_x, self.rank_y = train_x[rank].astype("float32"), train_y[rank]
        self.sets, self.test_y = distorted_sets(test_x, distortion, seed=seed + 100), test_y
        # every k-th test image: the test images come sorted by class
        self.curve_rows = np.linspace(0, len(test_y) - 1, min(args.curve_images, len(test_y))).astype(int)
        self.curve_sets = {level: images[self.curve_rows] for level, images in self.sets.items()}
        self.epochs = max(1, round(args.train_samples / len(self.train_x)))
        self.rows, self.curves = {}, {}

    def record(self, name, model, trained=None):
        mean, per_level = top1_over_levels(model, self.sets, self.test_y)
        self.rows[name] = {
            "top1": mean, "per_level": {str(k): v for k, v in per_level.items()},
            "trainable_parameters": trainable_parameters(model) if trained is None else trained,
            "flops": count_flops(model),
        }
        self.log(f"{name}: top-1 {mean:.4f}")

    def fit(self, model, learning_rate, warmup, curve=None, recalibrate=False):
        keras.utils.set_random_seed(self.seed)
        callbacks = []
        if curve:
            steps = self.epochs * -(-len(self.train_x) // self.args.batch_size)
            callbacks = [AccuracyCurve(self.curve_sets, self.test_y[self.curve_rows],
                                       max(1, steps // self.args.curve_points))]
        fit_deepcorrect(model, self.train_x, self.train_y, self.distortion, epochs=self.epochs,
                        batch_size=self.args.batch_size, learning_rate=learning_rate, warmup_epochs=warmup,
                        recalibrate=recalibrate, seed=self.seed, callbacks=callbacks, workers=self.args.workers)
        if curve:
            self.curves[curve] = callbacks[0].points
        return model

    def deepcorrect(self, ranking, unit, least=False, recalibrate=False, curve=None):
        """A DeepCorrect model on the most (or `least`) susceptible filters, trained."""
        orders = {k: v[::-1] if least else v for k, v in ranking.orders.items()}
        keras.utils.set_random_seed(self.seed)
        model = build_deepcorrect(self.base, orders, {p: BETA for p in POINTS}, unit=unit)
        return self.fit(model, self.args.unit_learning_rate, self.args.warmup_epochs, curve, recalibrate)

    def run(self, methods):
        lr = self.args.finetune_learning_rate
        self.record("Baseline", self.base, trained=0)
        if "BN recal." in methods:
            batches = MixedDistortionBatches(self.train_x, self.train_y, self.distortion,
                                             batch_size=self.args.batch_size, seed=self.seed)
            self.record("BN recal.", bn_recalibrated_copy(self.base, batches), trained=0)
        if "Finetune" in methods:
            self.record("Finetune", self.fit(finetune_copy(self.base), lr, 0.0, curve="Finetune"))
        if "Stability" in methods:
            trainer, stable = stability_model(self.base)
            self.fit(trainer, lr, 0.0)
            self.record("Stability", stable)
        needs_ranking = {"Deepcorr", "Deepcorr-b", "Deepcorr-rc", "Deepcorr-b + BN recal.", "Deepcorr least"}
        if not needs_ranking & set(methods):
            return
        if self.ranking is None:
            started = time.time()
            self.ranking = rank_filters(self.base, POINTS, self.rank_x, distort_levels(
                self.rank_x, self.distortion, seed=self.seed + 200), self.rank_y)
            self.log(f"ranked {sum(len(s) for s in self.ranking.scores.values())} filters in "
                     f"{time.time() - started:.0f} s")
        ranking = self.ranking
        if "Deepcorr" in methods:
            self.record("Deepcorr", self.deepcorrect(ranking, "full", curve="Deepcorr"))
        if "Deepcorr least" in methods:
            self.record("Deepcorr least", self.deepcorrect(ranking, "full", least=True))
        if {"Deepcorr-b", "Deepcorr-rc"} & set(methods):
            bottleneck = self.deepcorrect(ranking, "bottleneck")
            self.record("Deepcorr-b", bottleneck)
            if "Deepcorr-rc" in methods:
                depths = {l.name.removesuffix("_correction"): l.unit.depth for l in bottleneck.layers
                          if hasattr(l, "unit")}
                units = to_rank_constrained(bottleneck, {n: max(1, round(0.75 * d)) for n, d in depths.items()})
                rc = to_rank_constrained(units, base_ranks=ranks_for_flops(units, count_flops(self.base)))
                self.record("Deepcorr-rc", rc, trained=trainable_parameters(bottleneck))
        if "Deepcorr-b + BN recal." in methods:
            self.record("Deepcorr-b + BN recal.", self.deepcorrect(ranking, "bottleneck", recalibrate=True))


def spread(values):
    values = np.asarray(values, dtype="float64")
    return float(values.mean()), float((values.max() - values.min()) / 2)


def tables(results):
    """Markdown: Table II (mean ± half the range over seeds), Fig. 7 and Fig. 8."""
    runs = results["runs"]
    seeds = results["settings"]["seeds"]
    columns = [(m, d) for m in results["settings"]["models"] for d in results["settings"]["distortions"]]
    names = [n for n in METHODS if any(n in r["rows"] for r in runs)]

    def rows_of(model, distortion, name):
        return [r["rows"][name] for r in runs if (r["model"], r["distortion"]) == (model, distortion)
                and name in r["rows"]]

    lines = ["| Method | " + " | ".join(f"{m} {d.replace('_', ' ')}" for m, d in columns)
             + " | Trainable params (ResNet20) | FLOPs (ResNet20) |", "|---" * (len(columns) + 3) + "|"]
    for name in names:
        cells = []
        for model, distortion in columns:
            found = rows_of(model, distortion, name)
            cells.append("–" if not found else "{:.4f} ± {:.4f}".format(*spread([r["top1"] for r in found])))
        first = rows_of(*columns[0], name)
        cost = f"{first[0]['trainable_parameters']:,} | {first[0]['flops'] / 1e6:.1f}M" if first else "– | –"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {cost} |")
    lines += ["", f"Top-1 over the clean test images and the 6 levels; mean ± half the range over seeds {seeds}.", ""]
    curves = [r for r in runs if r["curves"]]
    if curves:
        lines += ["| Model | Distortion | Method | top-1 at training steps (mean over seeds) |", "|---|---|---|---|"]
        for model, distortion in columns:
            for method in ("Finetune", "Deepcorr"):
                points = [r["curves"][method] for r in curves
                          if (r["model"], r["distortion"]) == (model, distortion) and method in r["curves"]]
                if points:
                    steps = [s for s, _ in points[0]]
                    means = np.mean([[a for _, a in p] for p in points], axis=0)
                    cells = ", ".join(f"{s}: {a:.3f}" for s, a in zip(steps, means))
                    lines.append(f"| {model} | {distortion} | {method} | {cells} |")
    return "\n".join(lines) + "\n"


def main():
    args = parse()
    for path in (args.output, args.markdown):
        if not args.overwrite:
            with atomic_output(path) as tmp:  # refuses an existing file before hours of work
                tmp.write_text("")
    started = time.time()
    limit = max(args.train_images, args.rank_images)
    train_x, train_y, _ = load_cifar10_jpeg(args.data, "train", limit=None if limit >= 50000 else limit, seed=0)
    test_x, test_y, _ = load_cifar10_jpeg(args.data, "test", limit=args.test_images, seed=0)
    data = (train_x, train_y, test_x, test_y)
    results = {"settings": {**vars(args), "backend": keras.backend.backend(), "points": POINTS, "beta": BETA},
               "runs": []}
    for name in args.models:
        base = getattr(applications, name)(weights="cifar10")
        for distortion in args.distortions:
            ranking = None
            for seed in args.seeds:
                def log(message):
                    print(f"[{time.time() - started:7.0f}s] {name} {distortion} seed {seed}: {message}", flush=True)
                run = Run(args, base, distortion, seed, data, log, ranking)
                run.run(args.methods)
                ranking = run.ranking
                results["runs"].append({"model": name, "distortion": distortion, "seed": seed,
                                        "levels": list(resolve(distortion).levels), "epochs": run.epochs,
                                        "rows": run.rows, "curves": run.curves})
                results["seconds"] = time.time() - started
                write(args.output, json.dumps(results, indent=1))
                write(args.markdown, tables(results))
    print(tables(results))


if __name__ == "__main__":
    main()
