"""MkDocs hook: the DeepCorrect tutorial's ResNet50 section, from `scripts/deepcorrect_resnet50_results.json`.

The line `<!-- deepcorrect-resnet50 -->` becomes the table of the script's steps (seconds on the machine it ran on,
FLOPs, trainable parameters, the largest probability changes) and the FLOPs and trainable-parameter ratios beside
the paper's AlexNet (Tables III-IV) and ResNet18 (Tables IX-X), read from `tests/data/deepcorrect_tables.json`.
`render(results, paper)` is the same text as a string, for the tests.
"""

import json
from pathlib import Path

MARKER = "<!-- deepcorrect-resnet50 -->"
ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "scripts" / "deepcorrect_resnet50_results.json"
PAPER = ROOT / "tests" / "data" / "deepcorrect_tables.json"
UNITS = {"full": "Deepcorr", "bottleneck": "Deepcorr-b", "rank_constrained": "Deepcorr-rc"}


def _giga(flops):
    return f"{flops / 1e9:.2f}×10⁹"


def _steps_table(steps):
    lines = ["| step | seconds | result |", "|---|---|---|"]
    if "base" in steps:
        base = steps["base"]
        lines.append(f"| the base network | – | {_giga(base['flops'])} FLOPs, {base['parameters'] / 1e6:.1f}M "
                     "parameters |")
    if "rank" in steps:
        rank = steps["rank"]
        filters = sum(rank["filters"].values())
        points = ", ".join(f"`{point}` {count}" for point, count in rank["filters"].items())
        lines.append(f"| `rank_filters`: {filters} filters ({points}) on {rank['images']} images × "
                     f"{rank['levels']} level(s) | {rank['seconds']:.0f} | "
                     f"{rank['seconds'] / filters / rank['images']:.2f} s per filter and image |")
    for unit, arm in UNITS.items():
        built = steps.get(f"build {unit}")
        if built:
            change = built["identity_start_max_change"]
            start = "exactly the base's" if change == 0 else f"within {change:.0e} of the base's"
            if unit == "rank_constrained":
                start += " (every k×k convolution of the base decomposed too, to the base's FLOPs)"
            step = "`to_rank_constrained` of Deepcorr-b" if unit == "rank_constrained" else "`build_deepcorrect`"
            lines.append(f"| {step}, {arm} | {built['seconds']:.1f} | {_giga(built['flops'])} FLOPs "
                         f"({built['flops_ratio']:.2f}× the base), {built['trainable_parameters']:,} trainable; "
                         f"before training, probabilities {start} |")
    if "fit" in steps:
        fit = steps["fit"]
        lines.append(f"| `fit_deepcorrect`, Deepcorr: {fit['steps']} steps of {fit['batch_size']} | "
                     f"{fit['seconds']:.0f} | {fit['seconds_per_step']:.1f} s per step ({fit['note']}) |")
    if "serving form" in steps:
        served = steps["serving form"]
        lines.append(f"| `optimize_for_inference`, Deepcorr | {served['seconds']:.1f} | {_giga(served['flops'])} "
                     "FLOPs (the units' maps padded to multiples of 8), "
                     f"probabilities within {served['max_change']:.0e} of the training form's |")
    if "export" in steps:
        export = steps["export"]
        lines.append(f"| `export_saved_model`, reloaded with `tf.saved_model.load` | {export['seconds']:.0f} | "
                     f"served probabilities within {export['reloaded_max_change']:.0e} of the Keras model's |")
    return lines


def _ratios_table(steps, paper):
    lines = ["| model | units | FLOPs ratio to the base | trainable parameters | source |", "|---|---|---|---|---|"]
    for unit in ("full", "bottleneck"):
        for name, tables in (("AlexNet", "III-IV"), ("ResNet18", "IX-X")):
            printed = paper[name.lower()]
            _, total, trainable = printed[unit]
            lines.append(f"| {name} | {UNITS[unit]} | {total / printed['baseline']:.2f} | {trainable / 1e6:.2f}M | "
                         f"paper, Tables {tables} |")
        ours = steps.get("paper resnet18", {}).get(unit)
        if ours:
            lines.append(f"| ResNet18 (Table X's units, built here) | {UNITS[unit]} | {ours['flops_ratio']:.2f} | "
                         f"{ours['trainable_parameters'] / 1e6:.2f}M | measured |")
        built = steps.get(f"build {unit}")
        if built:
            lines.append(f"| ResNet50, β = 0.75 at the points above | {UNITS[unit]} | {built['flops_ratio']:.2f} | "
                         f"{built['trainable_parameters'] / 1e6:.2f}M | measured |")
    return lines


def render(results, paper):
    steps = results.get("steps", {})
    if not steps:
        return "The ResNet50 run has not been made yet."
    settings = results["settings"]
    head = (f"{settings['model']} (`weights={settings['weights']!r}`), {settings['side']} px, correction points "
            f"{', '.join(f'`{p}`' for p in settings['points'])}, β = {settings['beta']}, "
            f"`{settings['distortion']}` at level(s) {', '.join(map(str, settings['levels']))}; "
            f"{settings['backend']} backend on {settings['machine']} (one thread, beside other jobs):")
    return "\n".join([head, "", *_steps_table(steps), "", *_ratios_table(steps, paper)])


def on_page_markdown(markdown, page, config, files):
    if MARKER not in markdown:
        return markdown
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    return markdown.replace(MARKER, render(results, json.loads(PAPER.read_text())))
