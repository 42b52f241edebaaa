"""MkDocs hook: the transfer tutorial's MNIST tables are generated from `scripts/transfer_mnist_results.json`.

A page containing the line `<!-- transfer-mnist results -->` gets, in its place: the run that made the file (command,
length, commit, date), the protocol (splits and their seed, images), the distortions as the file records them
(registry name, levels, every option), a table of every condition (mean per-class accuracy over the splits ± its
standard deviation, with the lowest and highest split) and the table averaged over each distortion's levels (the
spread is over the splits' level averages). `render(results)` is the same text as a string, for the tests.
"""

import json
from pathlib import Path

import numpy as np

MARKER = "<!-- transfer-mnist results -->"
RESULTS = Path(__file__).resolve().parents[2] / "scripts" / "transfer_mnist_results.json"
MODELS = {"ResNet20[cifar10]": "ResNet-20", "ResNet20PP[cifar10]": "ResNet-20 push–pull"}
DISTORTIONS = {"deepcorrect-imagenet/gaussian_blur": "blur σ_b", "deepcorrect-imagenet/awgn": "AWGN σ_n"}
AVERAGED = {"deepcorrect-imagenet/gaussian_blur": "Gaussian blur", "deepcorrect-imagenet/awgn": "AWGN"}


def _spread(values):
    """`mean ± std (min–max)` over the splits."""
    values = np.asarray(values, float)
    return f"{values.mean():.4f} ± {values.std():.4f} ({values.min():.4f}–{values.max():.4f})"


def _condition(distortion, level):
    if distortion == "clean":
        return "clean"
    return f"{DISTORTIONS.get(distortion, distortion)} = {level:g}"


def _run(protocol):
    run = protocol.get("run", {})
    seconds = run.get("seconds")
    length = f"{seconds / 60:.1f} min" if seconds is not None else "length not recorded"
    uncommitted = run.get("uncommitted") or []
    where = f"commit `{(run.get('commit') or '?')[:10]}`"
    if uncommitted:
        where += f" with uncommitted changes to {', '.join(f'`{f}`' for f in uncommitted)}"
    return (f"Run: `{run.get('command', '?')}`, {length} of wall-clock time for "
            f"{run.get('conditions', '?')} conditions × {protocol['images']:,} digits per model, {where}, "
            f"{run.get('date', 'date not recorded')}.")


def _protocol(protocol):
    return (f"Protocol: {protocol['n_splits']} random splits (seed {protocol['seed']}) of {protocol['n_train']} "
            f"training and {protocol['n_val']} validation digits per class and {protocol['n_test']} test digits per "
            f"class ({protocol['classes']} classes, {protocol['images']:,} distinct digits over the splits); "
            f"SVMs trained `{protocol['svm_training']}`, C ∈ {{{', '.join(f'{c:g}' for c in protocol['Cs'])}}} "
            f"chosen on the validation digits.")


def _distortions(protocol):
    lines = []
    for entry in protocol.get("distortions", []):
        options = ", ".join(f"{k}={v!r}" for k, v in sorted(entry["options"].items())) or "none"
        levels = ", ".join(f"{level:g}" for level in entry["levels"])
        lines.append(f"- `{entry['name']}`, {entry['level_name']} ∈ {{{levels}}}, options {options}: "
                     f"{entry['description']}.")
    return lines


def _levels_table(rows, models):
    lines = ["| condition | " + " | ".join(MODELS.get(m, m) for m in models) + " |",
             "|---" * (len(models) + 1) + "|"]
    conditions = list(dict.fromkeys((r["distortion"], r["level"]) for r in rows))
    for distortion, level in conditions:
        cells = []
        for model in models:
            found = [r for r in rows if (r["model"], r["distortion"], r["level"]) == (model, distortion, level)]
            cells.append(_spread(found[0]["split_accuracies"]) if found else "–")
        lines.append(f"| {_condition(distortion, level)} | " + " | ".join(cells) + " |")
    return lines


def _averaged_table(rows, models):
    distortions = list(dict.fromkeys(r["distortion"] for r in rows if r["distortion"] != "clean"))
    lines = ["| model | clean | " + " | ".join(f"{AVERAGED.get(d, d)} (mean of levels)" for d in distortions) + " |",
             "|---" * (len(distortions) + 2) + "|"]
    for model in models:
        cells = []
        for distortion in ["clean", *distortions]:
            found = [r["split_accuracies"] for r in rows if (r["model"], r["distortion"]) == (model, distortion)]
            # each split's accuracy averaged over the levels, then mean and spread over the splits
            cells.append(_spread(np.mean(found, axis=0)) if found else "–")
        lines.append(f"| {MODELS.get(model, model)} | " + " | ".join(cells) + " |")
    return lines


def render(results):
    protocol, rows = results["protocol"], results["results"]
    models = list(dict.fromkeys(r["model"] for r in rows))
    lines = [_run(protocol), "", _protocol(protocol), "", "Distortions, as the file records them:", ""]
    lines += _distortions(protocol) + [""]
    lines += ["Mean per-class accuracy over the splits ± its standard deviation, lowest–highest split in brackets "
              "(chance: 0.10):", ""] + _levels_table(rows, models) + [""]
    lines += ["Averaged over the levels, as in Tables VI–VII (each split's accuracy averaged over the distortion's "
              "levels, then mean ± standard deviation over the splits):", ""] + _averaged_table(rows, models)
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown, page, config, files):
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render(json.loads(RESULTS.read_text())))
