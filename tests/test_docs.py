"""Every ```python block of the docs runs as a user would run it, page by page, in order.

Blocks of one page share one namespace, start with nothing defined in it, and run from an empty temporary working
directory (so a relative path to a file of the repository fails, as it would for a user of the installed package).
A ```text block right after a ```python block shows what it prints and must equal it, unless the line before the
```text fence is the comment `<!-- output varies -->` (timings, device names).
"""

import contextlib
import json
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```\n(\n*(<!-- output varies -->\n)?```text\n(.*?)^```)?", re.S | re.M)
PAGES = sorted(p for p in DOCS.rglob("*.md") if re.search(r"^```python", p.read_text(), re.M))
FORBIDDEN = ("TMP_DIR", "../shared")


def page_blocks(page):
    """`(code, expected output or None)` of each ```python block of `page`."""
    return [(m[1], m[4] if m[2] and not m[3] else None) for m in BLOCK.finditer(page.read_text())]


def load_hook(name):
    """The MkDocs hook `docs/hooks/<name>.py` as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, DOCS / "hooks" / f"{name}.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    return hook


def normalized(text):
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_docs_page_code_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    for number, (block, expected) in enumerate(page_blocks(page), 1):
        code = compile(block, f"{page.name}[block {number}]", "exec")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(code, namespace)
        if expected is not None:
            assert normalized(printed.getvalue()) == normalized(expected), f"{page.name} block {number} output"


@pytest.mark.parametrize("page", sorted(DOCS.rglob("*.md")), ids=lambda p: str(p.relative_to(DOCS)))
def test_docs_page_needs_nothing_outside_the_package(page):
    text = page.read_text()
    assert not [word for word in FORBIDDEN if word in text], f"{page.name} uses {FORBIDDEN}"


def test_docs_have_runnable_pages_with_shown_output():
    assert any(p.name == "push-pull-layer.md" for p in PAGES)
    assert sum(expected is not None for page in PAGES for _, expected in page_blocks(page)) >= 5


def test_deepcorrect_tables_and_figure_come_from_the_results_file():
    """The DeepCorrect tutorial's experiment tables and Fig. 8 are rendered from the script's results file."""
    hook = load_hook("deepcorrect_results")
    assert hook.MARKER in (DOCS / "tutorials" / "deepcorrect.md").read_text()
    results = json.loads(hook.RESULTS.read_text())
    text = hook.render(results)
    for group in ("probe", "runs"):
        for key, run in results[group].items():
            assert f"`{group}/{key}`" in text and f"{run['steps_done']:,} of {run['steps_planned']:,} steps" in text
            if group == "probe" and run["status"] == "done":
                assert f"| {run['top1']:.4f} |" in text
    if any(run.get("curve") for run in results["runs"].values()):
        assert "data:image/png;base64," in text
    changed = json.loads(json.dumps(results))
    first = next(iter(changed["probe"].values()))
    first["top1"] = 0.123456
    assert "| 0.1235 |" in hook.render(changed)  # the table follows the file, not a copy of it
    finetune = next(run for run in changed["runs"].values() if run["arm"] == "Finetune" and run["status"] == "done")
    changed["runs"]["resnet20pp_awgn_finetune_s0_e2"] = {**finetune, "model": "ResNet20PP", "top1": 0.654321}
    text = hook.render(changed)
    assert text.index("**Table II on ResNet20**") < text.index("**Table II on ResNet20PP**") < text.index("0.6543")


def test_transfer_mnist_tables_come_from_the_results_file():
    """The transfer tutorial's MNIST tables are rendered from scripts/transfer_mnist_results.json, with the run."""
    import numpy as np

    hook = load_hook("transfer_results")
    page = (DOCS / "tutorials" / "transfer.md").read_text()
    assert hook.MARKER in page
    results = json.loads(hook.RESULTS.read_text())
    text = hook.render(results)
    assert hook.on_page_markdown(page, None, None, None) == page.replace(hook.MARKER, text)
    run, protocol = results["protocol"]["run"], results["protocol"]
    assert run["command"] in text and f"{run['seconds'] / 60:.1f} min" in text and run["commit"][:10] in text
    assert f"seed {protocol['seed']}" in text and f"{protocol['n_splits']} random splits" in text
    for distortion in protocol["distortions"]:
        assert f"`{distortion['name']}`" in text
        assert all(f"{k}={v!r}" in text for k, v in distortion["options"].items())
    for row in results["results"]:  # every condition: mean ± std (min–max) over the splits
        splits = np.asarray(row["split_accuracies"])
        assert f"{row['accuracy']:.4f} ± {row['std']:.4f} ({splits.min():.4f}–{splits.max():.4f})" in text
    for model, summary in results["summary"].items():  # the averaged table: the file's summary
        assert all(f"{value:.4f} ± " in text for value in summary.values()), model
    changed = json.loads(json.dumps(results))
    changed["results"][0]["split_accuracies"] = [0.123456] * len(changed["results"][0]["split_accuracies"])
    assert "0.1235 ± 0.0000" in hook.render(changed)  # the tables follow the file, not a copy of it
    # The sentences after the tables hold for the file's numbers.
    acc = {(r["model"], r["distortion"].split("/")[-1], r["level"]): r for r in results["results"]}
    r20, pp = "ResNet20[cifar10]", "ResNet20PP[cifar10]"
    assert all(acc[pp, "awgn", s]["accuracy"] > acc[r20, "awgn", s]["accuracy"] for s in (10, 20, 40, 60, 80, 100))
    assert all(acc[pp, "gaussian_blur", s]["accuracy"] > acc[r20, "gaussian_blur", s]["accuracy"] for s in (1, 2))
    assert all(acc[pp, "gaussian_blur", s]["accuracy"] < acc[r20, "gaussian_blur", s]["accuracy"] for s in (3, 4, 5, 6))
    assert acc[pp, "clean", None]["accuracy"] < acc[r20, "clean", None]["accuracy"]
    for s in (1, 2):
        blurred, clean = acc[r20, "gaussian_blur", s], acc[r20, "clean", None]
        assert abs(blurred["accuracy"] - clean["accuracy"]) <= blurred["std"]
        assert acc[pp, "gaussian_blur", s]["accuracy"] > acc[pp, "clean", None]["accuracy"]
    stale = [line for line in page.splitlines() if line.startswith("| ResNet-20")]
    assert not stale, f"hand-written result rows in transfer.md: {stale}"


def test_training_runs_table_comes_from_the_runs():
    """The training tutorial's table of the 30-epoch runs: finished runs from the results file, running ones from
    their log.csv, so it shows the runs that exist and nothing else."""
    hook = load_hook("training_results")
    page = (DOCS / "tutorials" / "training.md").read_text()
    assert hook.MARKER in page
    row = {"epoch": 0.0, "accuracy": 0.5, "val_accuracy": 0.4, "seconds": 100.0}
    logs = {"ResNet20_resnet-cosine_e30_s0": [row, {**row, "epoch": 1.0, "val_accuracy": 0.61}]}
    text = hook.render({}, logs)
    assert "| `ResNet20_resnet-cosine_e30_s0` | ResNet20 | 0 | 2 of 30 | 0.5000 | 0.6100 | – | – |" in text
    assert "running" in text
    history = [{**row, "epoch": float(e), "val_accuracy": 0.8 + e / 100} for e in range(30)]
    results = {"ResNet20PP_resnet-cosine_e30_s1": {"history": history, "test_accuracy_last": 0.8612}}
    text = hook.render(results, logs)
    assert "| `ResNet20PP_resnet-cosine_e30_s1` | ResNet20PP | 1 | 30 of 30 |" in text and "| 6 | 0.8612 |" in text
    assert "meets the 85% target" in text and text.count("\n") == 3
    assert hook.render({}, {}) == "No run of the 30-epoch schedule has been started yet."
    assert set(hook.read_logs()) == {p.parent.name for p in hook.RUNS.glob("*/log.csv") if hook.KEY.match(p.parent.name)}


def test_training_benchmark_tables_come_from_the_benchmark_results():
    """The trained models' corruption benchmark: every benchmark_s<seed>/results.json, spread over seeds, the
    paper's Table 2-3 beside, and a verdict that follows the numbers."""
    hook = load_hook("training_results")
    assert hook.BENCHMARK_MARKER in (DOCS / "tutorials" / "training.md").read_text()
    paper = json.loads(hook.PAPER.read_text())
    names = list(paper["table2"]["ResNet-20"])

    def entry(clean, level_error, mce, rce):
        return {"clean_error": clean, "corruption_error": level_error, "mCE": mce, "rCE": rce,
                "errors": {c: {str(s): level_error + s - 3 for s in range(1, 6)} for c in names}}

    def result(seed, plain_mce, pp_mce):
        return {"images": 10000, "corruptions": names, "models": {
            f"ResNet20_resnet-cosine_e30_s{seed}/last": entry(13.0, 30.0, 100.0, 100.0),
            f"ResNet20PP_resnet-cosine_e30_s{seed}/last": entry(14.0, 28.0, pp_mce, 90.0),
            "ResNet20PP": entry(20.0, 40.0, 130.0, 120.0)}}

    text = hook.render_benchmark({0: result(0, 100, 92.0), 1: result(1, 100, 96.0)}, paper)
    assert "| ResNet20PP | trained here (`resnet-cosine`, 30 epochs, JPEG) | 0, 1 | 14.00 | 28.00 | 94.00 ± 2.00 |" \
        in text
    assert "| ResNet20PP | the authors' checkpoint (lossless CIFAR-10) | 0, 1 | 20.00 | 40.00 | 130.00 |" in text
    assert "| 8.29 / 29.83 / 101 / 158 |" in text and "| gaussian_noise | 30.00 | 28.00 | 40.00 | 57.41 | 49.9 |" in text
    assert "mCE is 94.0 and rCE 90.0 against ResNet20's 100.0 and 100.0" in text and ": the direction" in text
    assert "largest gains: gaussian_noise -2.00, shot_noise -2.00, impulse_noise -2.00 points" in text
    worse = hook.render_benchmark({0: result(0, 100, 104.0)}, paper)
    assert ": not the direction" in worse and "on 10,000 JPEG test images" in worse
    assert hook.render_benchmark({}, paper) == "No benchmark of the trained models has been run yet."
    assert set(hook.read_benchmarks()) == {int(p.parent.name[11:]) for p in hook.RUNS.glob("benchmark_s*/results.json")}


def test_deepcorrect_resnet50_section_comes_from_the_script_results():
    """The ResNet50 section: each step of scripts/deepcorrect_resnet50.py as it ran, the paper's ratios beside."""
    hook = load_hook("deepcorrect_resnet50")
    assert hook.MARKER in (DOCS / "tutorials" / "deepcorrect.md").read_text()
    paper = json.loads(hook.PAPER.read_text())
    settings = {"model": "keras.applications.ResNet50", "weights": "none", "side": 224, "points": ["conv1_relu"],
                "beta": 0.75, "distortion": "deepcorrect-imagenet/gaussian_blur", "levels": [3],
                "backend": "tensorflow", "machine": "x86_64, 2 cores"}
    steps = {"base": {"flops": 3.9e9, "parameters": 23_600_000},
             "rank": {"seconds": 128.0, "filters": {"conv1_relu": 64}, "images": 4, "levels": 1},
             "build full": {"seconds": 2.0, "flops": 5.0e9, "flops_ratio": 1.28, "trainable_parameters": 123_456,
                            "identity_start_max_change": 3e-7},
             "export": {"seconds": 30.0, "reloaded_max_change": 2e-6}}
    text = hook.render({"settings": settings, "steps": steps}, paper)
    assert "| `rank_filters`: 64 filters (`conv1_relu` 64) on 4 images × 1 level(s) | 128 | 0.50 s per filter" in text
    assert "1.28× the base), 123,456 trainable; before training, probabilities within 3e-07" in text
    assert "| ResNet50, β = 0.75 at the points above | Deepcorr | 1.28 | 0.12M | measured |" in text
    assert "| ResNet18 | Deepcorr | 1.94 | 8.41M | paper, Tables IX-X |" in text
    assert "| AlexNet | Deepcorr-b | 1.59 | 1.03M | paper, Tables III-IV |" in text
    assert "within 2e-06 of the Keras model's" in text and "optimize_for_inference" not in text
    assert "exactly the base's" in hook.render({"settings": settings, "steps": {**steps, "build full": {
        **steps["build full"], "identity_start_max_change": 0.0}}}, paper)
    assert hook.render({}, paper) == "The ResNet50 run has not been made yet."
