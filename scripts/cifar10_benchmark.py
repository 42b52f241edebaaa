"""The pretrained CIFAR-10 models on CIFAR-10-C generated from the JPEG test copy, next to the paper's Tables 2-3.

Corrupts a seeded subset of the test images once (19 corruptions x 5
severities, cached as an .npz), evaluates each model with shipped
`weights="cifar10"` (one JSON per model, so an interrupted run resumes), then
prints Markdown tables of our errors next to Table 2 and Table 3 of
Strisciuglio et al. (2020). Numbers measured on ../shared/data/cifar10-jpeg are
on JPEG re-encodings (about quality 75), not on the lossless CIFAR-10 test set.

    nice -n 10 .venv/bin/python scripts/cifar10_benchmark.py --limit 1000 --output runs/cifar10
"""

import argparse
import json
from pathlib import Path
import re
import time

import numpy as np

from keras_robust import corruptions, metrics
from keras_robust.benchmarking import evaluation, runner
from keras_robust.datasets import load_images

PAPER = Path(__file__).resolve().parent.parent / "tests" / "data" / "pushpull_table2.json"


def paper_name(builder_name):
    """ResNet20PP -> ResNet-20-PP, DenseNet40_12 -> DenseNet-40-12."""
    match = re.fullmatch(r"(ResNet|DenseNet)(\d+)(?:_(\d+))?(PP)?", builder_name)
    family, depth, growth, pp = match.groups()
    return "-".join(p for p in (family, depth, growth, pp and "PP") if p)


def corrupted_sets(images, cache, seed):
    if cache.is_file():
        with np.load(cache) as arrays:
            return dict(arrays)
    sets = {}
    for task in evaluation.distortion_tasks(corruptions.names(), metrics.SEVERITIES, seed=seed):
        sets[f"{task.group}/{task.level}"] = task.apply(images)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, **sets)
    tmp.replace(cache)
    return sets


def evaluate_model(builder_name, images, labels, sets, path):
    if path.is_file():
        return json.loads(path.read_text())
    start = time.perf_counter()
    model = runner.load_models([builder_name], "cifar10")[builder_name]
    tasks = [(*key.split("/"), lambda _, key=key: sets[key]) for key in sets]
    result = evaluation.evaluate({builder_name: model}, images, labels, tasks, batch_size=500)[builder_name]
    result["errors"] = {c: {int(s): e for s, e in levels.items()} for c, levels in result["errors"].items()}
    result["seconds"] = time.perf_counter() - start
    path.write_text(json.dumps(result, indent=1))
    print(f"{builder_name}: clean error {result['clean_error']:.2f}% ({result['seconds']:.0f} s)", flush=True)
    return result


def paper_average(paper, builder_name):
    """Mean of Table 2's 19 errors (Tables 2 and 3 each print one average with a typo)."""
    return float(np.mean(list(paper["table2"][paper_name(builder_name)].values())))


def tables(results, paper):
    names = corruptions.names()
    models = list(results)
    head = "| corruption | " + " | ".join(paper_name(m) for m in models) + " |"
    lines = [head, "|---" * (len(models) + 1) + "|"]
    for c in names:
        cells = [f"{np.mean(list(results[m]['errors'][c].values())):.2f} ({paper['table2'][paper_name(m)][c]:.2f})"
                 for m in models]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    cells = [f"{results[m]['corruption_error']:.2f} ({paper_average(paper, m):.2f})" for m in models]
    lines.append("| **average E** | " + " | ".join(cells) + " |")
    summary = ["| model | E_clean | E_corr | mCE | rCE |", "|---|---|---|---|---|"]
    for m in models:
        ours, theirs = results[m], paper["table3"][paper_name(m)]
        summary.append(
            f"| {paper_name(m)} | {ours['clean_error']:.2f} ({theirs['clean_error']:.2f}) | "
            f"{ours['corruption_error']:.2f} ({paper_average(paper, m):.2f}) | {ours['mCE']:.0f} ({theirs['mCE']}) | "
            f"{ours['rCE']:.0f} ({theirs['rCE'] if theirs['rCE'] is not None else '–'}) |"
        )
    return "\n".join(lines), "\n".join(summary)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default="../shared/data/cifar10-jpeg")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--output", default="runs/cifar10")
    args = parser.parse_args()
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    data = load_images(args.source, "test", limit=args.limit, seed=args.seed)
    start = time.perf_counter()
    sets = corrupted_sets(data.images, output / f"cifar10c-{len(data.labels)}-seed{args.seed}.npz", args.seed)
    print(f"{len(sets)} corrupted sets of {len(data.labels)} images ({time.perf_counter() - start:.0f} s)", flush=True)
    results = {}
    for name in args.models or runner.pretrained_models("cifar10"):
        results[name] = evaluate_model(name, data.images, data.labels, sets, output / f"{name}.json")
    evaluation.summarize(results, corruptions.names(), "alexnet-cifar10")
    per_corruption, summary = tables(results, json.loads(PAPER.read_text()))
    print(f"\nE (%) per corruption, ours on {len(data.labels)} JPEG test images (paper's Table 2):\n")
    print(per_corruption)
    print("\nOurs on the JPEG copy (paper's Table 3); mCE and rCE against the paper's AlexNet:\n")
    print(summary)


if __name__ == "__main__":
    main()
