"""MkDocs hook: the training tutorial's table of the 30-epoch CIFAR-10 runs, from the runs themselves.

The line `<!-- training-runs -->` becomes a table of every run of `scripts/train_cifar10_jpeg.py` with
`--results scripts/train_cifar10_jpeg_results.json`: a finished run from that file (top-1 on all 10,000 JPEG test
images), a run still going from its folder's `log.csv` (epochs done, the last validation top-1 on the 2,000-image
subset). `render(results, logs)` is the same text as a string, for the tests.

The line `<!-- training-benchmark -->` becomes the corruption benchmark of the trained models: every
`runs/cifar10_jpeg/benchmark_s<seed>/results.json` that `robust-cli benchmark` wrote (the trained ResNet20 and
ResNet20PP of that seed and the authors' checkpoints, mCE and rCE normalised by the trained ResNet20 of that seed),
with the spread over seeds where more than one exists, beside the paper's Tables 2-3 (`render_benchmark`).
"""

import csv
import json
import re
from pathlib import Path

MARKER = "<!-- training-runs -->"
BENCHMARK_MARKER = "<!-- training-benchmark -->"
ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "scripts" / "train_cifar10_jpeg_results.json"
RUNS = ROOT / "runs" / "cifar10_jpeg"
KEY = re.compile(r"^(?P<model>\w+?)_(?P<recipe>[\w-]+)_e(?P<epochs>\d+)_s(?P<seed>\d+)$")
TARGET = 0.85
PAPER = ROOT / "tests" / "data" / "pushpull_table2.json"
TRAINED = re.compile(r"^(?P<model>\w+?)_(?P<recipe>[\w-]+)_e(?P<epochs>\d+)_s(?P<seed>\d+)/last$")
PAPER_NAMES = {"ResNet20": "ResNet-20", "ResNet20PP": "ResNet-20-PP"}


def read_logs(folder=RUNS):
    """`{run key: rows of its log.csv}` of every run folder named like the script's keys."""
    logs = {}
    for path in sorted(Path(folder).glob("*/log.csv")):
        if KEY.match(path.parent.name):
            with path.open(newline="") as file:
                logs[path.parent.name] = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(file)]
    return logs


def _median(values):
    return sorted(values)[len(values) // 2] if values else float("nan")


def render(results, logs):
    lines = ["| run | model | seed | epochs | train top-1 (last epoch) | validation top-1 (2,000 test images, last "
             "epoch) | first epoch at ≥ 85% validation top-1 | test top-1, all 10,000 JPEG test images | s/epoch (median) | "
             "status |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(set(results) | set(logs)):
        parts = KEY.match(key)
        if parts is None:
            continue
        rows = results[key]["history"] if key in results else logs[key]
        last = rows[-1] if rows else {}
        seconds = [row["seconds"] for row in rows]
        if key in results:
            test = results[key]["test_accuracy_last"]
            status = f"finished: {'meets' if test >= TARGET else 'misses'} the {TARGET:.0%} target"
            test = f"{test:.4f}"
        else:
            test, status = "–", "running (resumable); no test number until it finishes"
        train = f"{last['accuracy']:.4f}" if last else "–"
        validation = f"{last['val_accuracy']:.4f}" if last else "–"
        reached = next((str(int(row["epoch"]) + 1) for row in rows if row["val_accuracy"] >= TARGET), "–")
        lines.append(f"| `{key}` | {parts['model']} | {parts['seed']} | {len(rows)} of {parts['epochs']} | {train} | "
                     f"{validation} | {reached} | {test} | {_median(seconds):.0f} | {status} |")
    if len(lines) == 2:
        return "No run of the 30-epoch schedule has been started yet."
    return "\n".join(lines)


def read_benchmarks(folder=RUNS):
    """`{seed: results.json of robust-cli benchmark}` of every `benchmark_s<seed>` folder."""
    found = {}
    for path in sorted(Path(folder).glob("benchmark_s*/results.json")):
        seed = path.parent.name.removeprefix("benchmark_s")
        if seed.isdigit():
            found[int(seed)] = json.loads(path.read_text())
    return found


def _who(name):
    """(model, whose weights, seed or None) of a benchmarked model's name."""
    trained = TRAINED.match(name)
    if trained:
        return trained["model"], "trained here (`resnet-cosine`, 30 epochs, JPEG)", int(trained["seed"])
    return name, "the authors' checkpoint (lossless CIFAR-10)", None


def _mean(values):
    values = list(values)
    return sum(values) / len(values)


def _spread(values):
    mean = _mean(values)
    return f"{mean:.2f}" if max(values) == min(values) else f"{mean:.2f} ± {(max(values) - min(values)) / 2:.2f}"


def render_benchmark(benchmarks, paper):
    """Markdown tables of the trained models' corruption benchmark, one column group per model and weights."""
    if not benchmarks:
        return "No benchmark of the trained models has been run yet."
    rows = {}  # (model, weights) -> {seed of the benchmark: entry}
    for seed, result in sorted(benchmarks.items()):
        for name, entry in result["models"].items():
            model, weights, _ = _who(name)
            rows.setdefault((model, weights), {})[seed] = entry
    images = {result["images"] for result in benchmarks.values()}
    lines = ["| model | weights | benchmarks (seeds) | E_clean | E_corr | mCE | rCE | paper, Table 3: E_clean / E_corr / mCE / "
             "rCE (vs AlexNet) |",
             "|---|---|---|---|---|---|---|---|"]
    for (model, weights), by_seed in rows.items():
        entries = list(by_seed.values())
        cells = [_spread([e[key] for e in entries]) if all(e.get(key) is not None for e in entries) else "–"
                 for key in ("clean_error", "corruption_error", "mCE", "rCE")]
        table3 = paper["table3"].get(PAPER_NAMES.get(model, ""), {})
        theirs = " / ".join(f"{table3[k]:g}" for k in ("clean_error", "corruption_error", "mCE", "rCE")) if table3 \
            else "–"
        lines.append(f"| {model} | {weights} | {', '.join(map(str, by_seed))} | {' | '.join(cells)} | {theirs} |")
    corruptions = next(iter(benchmarks.values()))["corruptions"]
    header = [f"{model} ({'trained' if weights.startswith('trained') else 'authors'})" for model, weights in rows]
    per = ["| corruption | " + " | ".join(header) + " | paper ResNet-20 | paper ResNet-20-PP |",
           "|---|" + "---|" * (len(header) + 2)]
    for corruption in corruptions:
        cells = [_spread([_mean(e["errors"][corruption].values()) for e in by_seed.values()])
                 for by_seed in rows.values()]
        theirs = [f"{paper['table2'][name][corruption]:g}" for name in ("ResNet-20", "ResNet-20-PP")]
        per.append(f"| {corruption} | " + " | ".join(cells + theirs) + " |")
    size = ", ".join(f"{n:,}" for n in sorted(images))
    return "\n".join(lines) + f"\n\n{_verdict(rows, paper['table3'])}\n\nErrors in %, on {size} JPEG test images and their " \
        "19 × 5 corruptions (per corruption: the mean over the five severities); a ± is half the range over the " \
        "benchmarks' seeds (none where they agree).\n\n" + "\n".join(per)


def _verdict(rows, table3):
    """The paper's direction (push-pull: lower mCE and rCE than its plain twin), checked on the trained models."""
    trained = {model: by_seed for (model, weights), by_seed in rows.items() if weights.startswith("trained")}
    if not {"ResNet20", "ResNet20PP"} <= set(trained):
        return "The push-pull comparison waits for a benchmark of both trained models."
    means = {m: {k: _mean(e[k] for e in trained[m].values()) for k in ("clean_error", "mCE", "rCE")}
             for m in ("ResNet20", "ResNet20PP")}
    plain, pp = means["ResNet20"], means["ResNet20PP"]
    holds = pp["mCE"] < plain["mCE"] and pp["rCE"] < plain["rCE"]
    gains = _gains(trained["ResNet20"], trained["ResNet20PP"])
    return (f"**Trained here, ResNet20PP's mCE is {pp['mCE']:.1f} and rCE {pp['rCE']:.1f} against ResNet20's "
            f"{plain['mCE']:.1f} and {plain['rCE']:.1f} (E_clean {pp['clean_error']:.2f}% against "
            f"{plain['clean_error']:.2f}%): {'the' if holds else 'not the'} direction of the paper's Table 3** "
            f"(ResNet-20-PP mCE {table3['ResNet-20-PP']['mCE']}, rCE {table3['ResNet-20-PP']['rCE']} against "
            f"ResNet-20's {table3['ResNet-20']['mCE']} and {table3['ResNet-20']['rCE']}, normalised by AlexNet). "
            f"Per corruption (mean over the severities), push-pull's largest gains: {gains[0]}; its largest losses: "
            f"{gains[1]}.")


def _gains(plain, pp, count=3):
    """The corruptions where the push-pull model's error is lowest and highest against the plain one's, as text."""
    corruptions = next(iter(plain.values()))["errors"]
    change = {c: _mean(_mean(e["errors"][c].values()) for e in pp.values())
              - _mean(_mean(e["errors"][c].values()) for e in plain.values()) for c in corruptions}
    ordered = sorted(change, key=change.get)
    text = [", ".join(f"{c} {change[c]:+.2f}" for c in chosen) for chosen in (ordered[:count], ordered[::-1][:count])]
    return text[0] + " points", text[1] + " points"


def on_page_markdown(markdown, page, config, files):
    if MARKER in markdown:
        results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
        markdown = markdown.replace(MARKER, render(results, read_logs()))
    if BENCHMARK_MARKER in markdown:
        markdown = markdown.replace(BENCHMARK_MARKER, render_benchmark(read_benchmarks(), json.loads(PAPER.read_text())))
    return markdown
