"""MkDocs hook: the training tutorial's table of the 30-epoch CIFAR-10 runs, from the runs themselves.

The line `<!-- training-runs -->` becomes a table of every run of `scripts/train_cifar10_jpeg.py` with
`--results scripts/train_cifar10_jpeg_results.json`: a finished run from that file (top-1 on all 10,000 JPEG test
images), a run still going from its folder's `log.csv` (epochs done, the last validation top-1 on the 2,000-image
subset). `render(results, logs)` is the same text as a string, for the tests.
"""

import csv
import json
import re
from pathlib import Path

MARKER = "<!-- training-runs -->"
ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "scripts" / "train_cifar10_jpeg_results.json"
RUNS = ROOT / "runs" / "cifar10_jpeg"
KEY = re.compile(r"^(?P<model>\w+?)_(?P<recipe>[\w-]+)_e(?P<epochs>\d+)_s(?P<seed>\d+)$")
TARGET = 0.85


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
             "epoch) | test top-1, all 10,000 JPEG test images | s/epoch (median) | status |",
             "|---|---|---|---|---|---|---|---|---|"]
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
        lines.append(f"| `{key}` | {parts['model']} | {parts['seed']} | {len(rows)} of {parts['epochs']} | {train} | "
                     f"{validation} | {test} | {_median(seconds):.0f} | {status} |")
    if len(lines) == 2:
        return "No run of the 30-epoch schedule has been started yet."
    return "\n".join(lines)


def on_page_markdown(markdown, page, config, files):
    if MARKER not in markdown:
        return markdown
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    return markdown.replace(MARKER, render(results, read_logs()))
