"""Every ```python block of the docs runs as a user would run it, page by page, in order.

Blocks of one page share one namespace, start with nothing defined in it, and run from an empty temporary working
directory (so a relative path to a file of the repository fails, as it would for a user of the installed package).
A ```text block right after a ```python block shows what it prints and must equal it, unless the line before the
```text fence is the comment `<!-- output varies -->` (timings, device names).
"""

import contextlib
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
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("deepcorrect_results", DOCS / "hooks" / "deepcorrect_results.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
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
