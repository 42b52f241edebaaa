"""Figs. 4 and 5 of the push–pull paper on MNIST: the 8 LeNets of Table 1 under noise and contrast change.

Trains LeNet A-D and PA-PD (Table 1: no batch normalization, unless
`--batch-norm`) with the paper's recipe (SGD, Nesterov 0.9, weight
decay 5e-4, learning rate 0.1 divided by 10 at 1/3 and 2/3 of the epochs,
batch 128) shortened to `--epochs`, for several seeds. The MNIST training set
is not available here: the models train on the first 8,000 digits of the
MNIST test set and are tested on the other 2,000. Fig. 4: Gaussian noise of
variance σ² on [0, 1] images, added in floating point and not clipped (the
authors' transform; `--clip` rounds and clips to 0..255). Fig. 5: contrast
change C then Poisson noise. Writes JSON and a Markdown table of mean ± half
the range over the seeds, and of the push–pull minus plain difference:

    nice -n 10 .venv/bin/python scripts/lenet_pushpull_figures.py --epochs 15 --seeds 0 1 2
"""

import argparse
import dataclasses
import json
import os
import tempfile
import time

import numpy as np

from keras_robust import metrics
from keras_robust.applications import LeNet
from keras_robust.atomic import atomic_output
from keras_robust.corruptions import distort, get_distortion
from keras_robust.datasets import load_mnist_test
from keras_robust.training import RECIPES, fit

VARIANTS = ("A", "B", "C", "D", "PA", "PB", "PC", "PD")
HELD_OUT = 2000
TRAINED = 0.5


def conditions(images, seed, clip):
    """`{(family, level): images}`: clean, Fig. 4 noise and Fig. 5 contrast + Poisson noise."""
    sets = {("clean", 0): images.astype("float32")}
    for i, variance in enumerate(get_distortion("pushpull/gaussian_noise").levels):
        sets["noise", variance] = distort(images, "pushpull/gaussian_noise", variance, seed=seed + i,
                                          clip=clip).astype("float32")
    for i, contrast in enumerate(get_distortion("pushpull/contrast").levels):
        sets["contrast", contrast] = distort(images, "pushpull/contrast", contrast, seed=seed + 100 + i).astype("float32")
    return sets


def accuracy(model, images, labels):
    return metrics.accuracy(model, images, labels, batch_size=500)


def spread(values):
    values = np.asarray(values, dtype="float64")
    return f"{100 * values.mean():.1f} ± {100 * (values.max() - values.min()) / 2:.1f}"


def table(results):
    keys = [tuple(k.split(":")) for k in results["conditions"]]
    header = " | ".join("clean" if f == "clean" else f"σ² {l}" if f == "noise" else f"C {l}" for f, l in keys)
    lines = [f"| LeNet | {header} |", "|---" * (len(keys) + 1) + "|"]
    runs = results["runs"]
    for variant in VARIANTS:
        if variant in runs:
            cells = [spread([r[k] for r in runs[variant]]) for k in results["conditions"]]
            lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    for variant in VARIANTS[:4]:
        if variant in runs and f"P{variant}" in runs:
            pairs = list(zip(runs[f"P{variant}"], runs[variant]))
            cells = [spread([p[k] - q[k] for p, q in pairs]) for k in results["conditions"]]
            lines.append(f"| P{variant} − {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\n" + trained_table(results)


def trained(row):
    """A run trained when its clean accuracy is well above chance (10 classes)."""
    return row["clean:0"] >= TRAINED


def trained_table(results):
    """Clean top-1 of every seed, and the push-pull minus plain difference over the seeds where both trained."""
    runs, seeds = results["runs"], results["settings"]["seeds"]
    lines = [f"Seeds {', '.join(map(str, seeds))}; a run counts as trained at clean top-1 ≥ {100 * TRAINED:.0f}%.", "",
             "| LeNet | clean top-1 per seed (%) | trained |", "|---|---|---|"]
    for variant in VARIANTS:
        if variant in runs:
            rows = runs[variant]
            clean = ", ".join(f"{100 * r['clean:0']:.1f}" for r in rows)
            lines.append(f"| {variant} | {clean} | "
                         f"{sum(map(trained, rows))} of {len(rows)} |")
    keys = [k for k in results["conditions"] if k != "clean:0"]
    names = ["σ² " + k.split(":")[1] if k.startswith("noise") else "C " + k.split(":")[1] for k in keys]
    lines += ["", "Push-pull minus plain (points), mean ± half the range over the seeds where both twins trained:", "",
              f"| pair | seeds | {' | '.join(names)} |", "|---" * (len(keys) + 2) + "|"]
    for variant in VARIANTS[:4]:
        if variant in runs and f"P{variant}" in runs:
            pairs = [(p, q) for p, q in zip(runs[f"P{variant}"], runs[variant]) if trained(p) and trained(q)]
            cells = [spread([p[k] - q[k] for p, q in pairs]) if pairs else "–" for k in keys]
            lines.append(f"| P{variant} − {variant} | {len(pairs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--train", type=int, default=8000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batch-norm", action="store_true", help="BatchNormalization after conv1 (not Table 1)")
    parser.add_argument("--clip", action="store_true", help="round and clip the Fig. 4 noise to 0..255")
    parser.add_argument("--output", default="lenet_pushpull_figures.json")
    parser.add_argument("--markdown", default="lenet_pushpull_figures.md")
    parser.add_argument("--resume", action="store_true",
                        help="keep the (variant, seed) runs already in --output (same settings) and train the rest")
    args = parser.parse_args()
    images, labels = load_mnist_test()
    train = (images[:args.train], labels[:args.train])
    test_x, test_y = images[-HELD_OUT:], labels[-HELD_OUT:]
    recipe = RECIPES["lenet"].shortened(args.epochs)
    sets = conditions(test_x, seed=1, clip=args.clip)
    results = {"settings": {**vars(args), "recipe": dataclasses.asdict(recipe), "held_out": HELD_OUT,
                            "note": "trained on the first digits of the MNIST test set, tested on its last 2,000"},
               "conditions": [f"{f}:{l}" for f, l in sets], "runs": {}}
    done = {}
    if args.resume and os.path.exists(args.output):
        with open(args.output) as f:
            previous = json.load(f)
        same = ("epochs", "train", "batch_norm", "clip")
        if any(previous["settings"][k] != results["settings"][k] for k in same):
            raise SystemExit(f"--resume: {args.output} has other settings ({', '.join(same)} must match)")
        done = {(variant, seed): row for variant, rows in previous["runs"].items()
                for seed, row in zip(previous["settings"]["seeds"], rows)}
    started = time.time()
    order = [v for pair in zip(VARIANTS[:4], VARIANTS[4:]) for v in pair if v in args.variants]
    for seed in args.seeds:  # every variant of a seed before the next seed, twins side by side
        for variant in order:
            if (variant, seed) in done:
                results["runs"].setdefault(variant, []).append(done[(variant, seed)])
                continue
            model = fit(lambda: LeNet(variant, batch_norm=args.batch_norm), train, recipe,
                        tempfile.mkdtemp(), epochs=args.epochs, seed=seed, verbose=0).model
            row = {f"{f}:{l}": accuracy(model, x, test_y) for (f, l), x in sets.items()}
            results["runs"].setdefault(variant, []).append(row)
            print(f"[{time.time() - started:6.0f}s] LeNet-{variant} seed {seed}: clean {row['clean:0']:.4f}, "
                  f"σ² 0.2 {row.get('noise:0.2', float('nan')):.4f}", flush=True)
            results["seconds"] = time.time() - started
            for path, text in ((args.output, json.dumps(results, indent=1)), (args.markdown, table(results))):
                with atomic_output(path, overwrite=True) as tmp:
                    tmp.write_text(text)
    print(table(results))


if __name__ == "__main__":
    main()
