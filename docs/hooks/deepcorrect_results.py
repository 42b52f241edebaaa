"""MkDocs hook: the DeepCorrect tutorial's tables and Fig. 8 are generated from `scripts/deepcorrect_cifar10_results.json`.

A page containing the line `<!-- deepcorrect-cifar10 results -->` gets, in its place: which runs exist and how far
each went against its planned length, the probe's table, Table II's arms at the paper's length (mean ± half the
range over seeds, every run's length beside its number), the paper's AlexNet Table II, and Fig. 8 (top-1 against
steps from step 0, as an embedded PNG). `render(results)` is the same text as a string, for the tests.
"""

import base64
import io
import json
from pathlib import Path

MARKER = "<!-- deepcorrect-cifar10 results -->"
RESULTS = Path(__file__).resolve().parents[2] / "scripts" / "deepcorrect_cifar10_results.json"
ARMS = ["Baseline", "BN recal.", "Finetune", "Deepcorr", "Deepcorr (He start)", "Deepcorr (BN adapt)", "Deepcorr-b",
        "Deepcorr-rc", "Deepcorr-b + BN recal.", "Deepcorr random order"]
DISTORTIONS = {"awgn": "AWGN", "gaussian_blur": "Gaussian blur"}
# The paper's Table II (AlexNet on ImageNet, top-1 over clean images and every level) and Table III (trainable).
PAPER = {"Baseline": (0.2375, 0.2305, "0"), "Finetune": (0.4894, 0.4596, "60.96M"),
         "Deepcorr": (0.5092, 0.5071, "2.81M"), "Deepcorr-b": (0.5063, 0.5022, "1.03M"),
         "Deepcorr-rc": (0.5052, 0.4992, "1.03M")}


def _length(run, batch=64):
    """Samples seen in CIFAR-10 epochs (50,000 images) and as a share of the paper's 62,500 steps ≈ 10 epochs."""
    if run["spec"].get("kind") == "rank_constrained":
        return f"Deepcorr-b's run of {run['epochs']} epochs decomposed, not trained further"
    if not run["steps_planned"] or "rate" not in run["spec"]:
        return "no weight trained"
    epochs = run["steps_done"] * batch / 50000
    return f"{epochs:.3g} epochs, {epochs / 10:.0%} of the paper's length"


def _spread(values):
    mean = sum(values) / len(values)
    return f"{mean:.4f} ± {(max(values) - min(values)) / 2:.4f}" if len(values) > 1 else f"{mean:.4f}"


def _cell(runs):
    """A table cell: finished runs' top-1 on the test images; else the last point of a running run's curve."""
    done = [r for r in runs if r["status"] == "done"]
    if done:
        seeds = ", ".join(str(r["seed"]) for r in done)
        lengths = sorted({_length(r) for r in done})
        plural = "s" if len(done) > 1 else ""
        return f"{_spread([r['top1'] for r in done])} (seed{plural} {seeds}{''.join('; ' + x for x in lengths)})"
    running = [r for r in runs if r.get("curve")]
    if running:
        run = running[0]
        step, top1 = run["curve"][-1]
        return f"running: {top1:.4f} at step {step} of {run['steps_planned']} (1,000 balanced images)"
    return "–"


def _runs_table(runs, model):
    lines = ["| Method | AWGN | Gaussian blur | Trainable params | FLOPs | Paper (AlexNet) AWGN / blur, trainable |",
             "|---|---|---|---|---|---|"]
    for arm in ARMS:
        chosen = [r for r in runs.values() if r["arm"] == arm and r["model"] == model]
        if not chosen:
            continue
        cells = [_cell([r for r in chosen if r["distortion"] == d]) for d in DISTORTIONS]
        paper = PAPER.get(arm)
        paper_cell = f"{paper[0]:.4f} / {paper[1]:.4f}, {paper[2]}" if paper else "–"
        first = chosen[0]
        lines.append(f"| {arm} | {cells[0]} | {cells[1]} | {first.get('trainable_parameters', 0):,} | "
                     f"{first.get('flops', 0) / 1e6:.1f}M | {paper_cell} |")
    return lines


def _probe_table(probe):
    lines = ["| Arm | rate | warm-up (share of steps at rate/10) | batch norm | filter order | steps | top-1 at step 0 "
             "| top-1 after |", "|---|---|---|---|---|---|---|---|"]
    order = sorted(probe.values(), key=lambda r: (ARMS.index(r["arm"]), -r["spec"].get("rate", 0),
                                                   r["spec"].get("warmup", 0)))
    for run in order:
        spec = run["spec"]
        start = run.get("curve", [[0, float("nan")]])[0][1]
        after = f"{run['top1']:.4f}" if run["status"] == "done" else f"running ({run['steps_done']} steps)"
        lines.append(f"| {run['arm']} | {spec['rate']} | {spec['warmup']:.0%} | {spec.get('batch_norm', 'trained')} "
                     f"| {spec.get('order', '–')} | {run['steps_planned']} | {start:.4f} | {after} |")
    return lines


def _status(results):
    lines = []
    for group in ("probe", "runs"):
        for key, run in sorted(results.get(group, {}).items()):
            state = "finished" if run["status"] == "done" else "interrupted, resumable"
            hours = run.get("seconds", 0) / 3600
            lines.append(f"- `{group}/{key}`: {state}, {run['steps_done']:,} of {run['steps_planned']:,} steps "
                         f"({_length(run)}), {hours:.2f} h of wall-clock time on the shared machine")
    return lines


def _figure(runs):
    """Fig. 8 as a Markdown image (an embedded PNG): top-1 on 1,000 balanced test images against training steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = [r for r in runs.values() if r.get("curve") and r["model"] == "ResNet20"]
    if not curves:
        return []
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for axis, (distortion, title) in zip(axes, DISTORTIONS.items()):
        for run in sorted(curves, key=lambda r: (r["arm"], r["seed"])):
            if run["distortion"] == distortion:
                steps, top1 = zip(*run["curve"])
                axis.plot(steps, top1, marker=".", label=f"{run['arm']}, seed {run['seed']}")
        axis.set_title(f"ResNet20, {title} (CIFAR-10 JPEG)")
        axis.set_xlabel("training step (batch 64)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    axes[0].set_ylabel("top-1, clean + 6 levels")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return [f"![Fig. 8: top-1 against training steps](data:image/png;base64,"
            f"{base64.b64encode(buffer.getvalue()).decode()})"]


def render(results):
    settings = results.get("settings", {})
    lines = [f"Backend {settings.get('backend', '?')}, batch {settings.get('batch_size', '?')}, correction points "
             f"{', '.join(settings.get('points', []))}, β = {settings.get('beta', '?')}. The runs that exist:", ""]
    lines += _status(results) + [""]
    if results.get("probe"):
        lines += ["**Probe** (AWGN, identity start unless named, real ranking unless named, equal steps on the first "
                  "19,200 shuffled training images; top-1 over clean + 6 levels on 1,000 class-balanced test "
                  "images):", ""] + _probe_table(results["probe"]) + [""]
    models = sorted({r["model"] for r in results.get("runs", {}).values()}, key=lambda m: (m != "ResNet20", m))
    for model in models:
        lines += [f"**Table II on {model}** (top-1 over the clean test images and the 6 levels; mean ± half the "
                  "range over the seeds; each cell gives the seeds and the run's length against the paper's 10 "
                  "epochs; a run still in progress shows its last curve point instead):", ""]
        lines += _runs_table(results["runs"], model) + [""]
    if results.get("runs"):
        lines += _figure(results["runs"])
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown, page, config, files):
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render(json.loads(RESULTS.read_text())))
