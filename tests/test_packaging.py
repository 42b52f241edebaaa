"""Packaging: what a plain `pip install keras_robust` brings, the Makefile's install stamp, figures skipped cleanly.

The full check (sdist and wheel built, the wheel installed into a fresh virtual environment, every command's
`--help` and a short main job run from it) is `.ci/wheel_check`, run by `.ci/run` (`make wheel-check`).
"""

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
# Imported only inside the code paths of an extra, with an error naming the extra when missing.
OPTIONAL_IMPORTS = {"torch": "torch", "jax": "jax", "jaxlib": "jax"}


def _name(requirement):
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _third_party_imports():
    """Top-level module names imported anywhere in keras_robust/ that are not the standard library or the package."""
    found = {}
    for file in (ROOT / "keras_robust").rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "keras_robust":
                    found.setdefault(top, file.relative_to(ROOT))
    return found


def test_every_module_the_package_imports_is_a_declared_dependency_or_an_extra():
    declared = {_name(r) for r in PROJECT["dependencies"]}
    extras = {extra: {_name(r) for r in reqs} for extra, reqs in PROJECT["optional-dependencies"].items()}
    distributions = importlib.metadata.packages_distributions()
    imports = _third_party_imports()
    assert {"numpy", "keras", "tensorflow", "click", "matplotlib", "PIL"} <= set(imports)
    undeclared = {}
    for module, file in imports.items():
        names = {_name(d) for d in distributions.get(module, [module])}
        if module in OPTIONAL_IMPORTS:
            assert names & extras[OPTIONAL_IMPORTS[module]], f"{module} ({file}) not in its extra"
        elif not names & declared:
            undeclared[module] = str(file)
    assert not undeclared, f"imported but not declared in pyproject.toml dependencies: {undeclared}"


def test_what_the_readme_and_docs_use_is_a_dependency_not_an_extra():
    declared = {_name(r) for r in PROJECT["dependencies"]}
    # figures of the main job, image files, what tensorflow-datasets imports when downloading
    assert {"matplotlib", "pillow", "importlib-resources", "tensorflow-datasets"} <= declared
    assert set(PROJECT["optional-dependencies"]) == {"torch", "jax", "docs", "test"}
    torch_pins = [r for reqs in PROJECT["optional-dependencies"].values() for r in reqs if _name(r) == "torch"]
    assert torch_pins and all(r.replace(" ", "") == "torch==2.13.0" for r in torch_pins), torch_pins
    assert not [r for r in PROJECT["dependencies"] if _name(r) in {"torch", "jax", "jaxlib"}]


def test_metadata_licence_is_spdx_with_urls_classifiers_and_the_tested_python():
    assert PROJECT["license"] == "Apache-2.0"  # an SPDX string, not the deprecated table
    assert all((ROOT / f).is_file() for f in PROJECT["license-files"])
    assert PROJECT["urls"] and all(u.startswith("https://") for u in PROJECT["urls"].values())
    tested = f"Programming Language :: Python :: {sys.version_info.major}.{sys.version_info.minor}"
    assert tested in PROJECT["classifiers"]
    minimum = tuple(int(p) for p in PROJECT["requires-python"].removeprefix(">=").split("."))
    assert sys.version_info[:2] >= minimum
    versions = [c.rsplit(" ", 1)[1] for c in PROJECT["classifiers"] if re.search(r"Python :: 3\.\d+$", c)]
    assert min(tuple(map(int, v.split("."))) for v in versions) == minimum  # no untested version allowed


def test_ci_runs_the_tests_and_the_wheel_check():
    steps = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert "make test" in steps and "make wheel-check" in steps
    assert "bash .ci/wheel_check" in (ROOT / "Makefile").read_text()
    script = (ROOT / ".ci/wheel_check").read_text()
    for needed in ("-m build", "-m venv", "pip install", "--help", "benchmark", "report.md", ".png"):
        assert needed in script, needed
    assert "-e " not in script and "--editable" not in script and "system-site-packages" not in script


def _make_plan(target, folder):
    """What `make -n target` would run, the same whether or not the tests themselves run under make (CI's
    `make test` passes MAKELEVEL and MAKEFLAGS down, which adds 'Entering directory' lines)."""
    env = {key: value for key, value in os.environ.items() if key not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    command = ["make", "--no-print-directory", "-n", target]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_reinstalls_when_pyproject_changes_even_back_to_an_earlier_content(tmp_path):
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    venv = tmp_path / ".venv"
    venv.mkdir()

    def plan():
        return _make_plan("install", tmp_path)

    def install():  # what the recipe leaves behind, without installing anything
        stamp = re.search(r"touch (\S+)", plan()).group(1)
        for old in venv.glob(".installed-*"):
            old.unlink()
        (tmp_path / stamp).touch()

    assert "pip install" in plan()
    install()
    assert "pip install" not in plan()  # up to date: nothing to do
    original = (tmp_path / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(original + "\n# a new dependency\n")
    assert "pip install" in plan()
    install()
    (tmp_path / "pyproject.toml").write_text(original)  # back to the first content: installed deps differ
    assert "pip install" in plan()


def _small_result():
    from keras_robust.benchmarking import BenchmarkResult

    return BenchmarkResult({"A": {"clean_error": 10.0, "errors": {"fog": {1: 20.0}}, "corruption_error": 20.0,
                                  "mCE": None, "rCE": None}}, dataset="demo", corruptions=["fog"], levels=[1])


def test_without_matplotlib_the_rest_is_written_and_the_warning_says_what_was_skipped(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _small_result().save(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == [
        "report.md", "results.csv", "results.json"]
    assert any("Figures skipped" in str(w.message) and "matplotlib" in str(w.message) for w in caught)


def test_with_matplotlib_the_figures_are_written(tmp_path):
    _small_result().save(tmp_path / "out")
    assert (tmp_path / "out" / "error_per_corruption.png").stat().st_size > 1000


def test_cli_benchmark_says_before_the_work_that_figures_will_be_skipped(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import keras_robust.benchmarking
    import keras_robust.benchmarking.figures as figures
    from keras_robust.cli.main import cli

    calls = []

    def fake_benchmark(*args, **kwargs):
        calls.append("evaluated")
        return _small_result()

    monkeypatch.setattr(figures, "missing", lambda: "matplotlib cannot be imported")
    monkeypatch.setattr(keras_robust.benchmarking, "benchmark", fake_benchmark)
    result = CliRunner().invoke(cli, ["benchmark", "--output", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert calls == ["evaluated"]
    assert result.output.index("figures will be skipped") < result.output.index("Results written")
    assert "figures skipped: matplotlib cannot be imported" in result.output
    assert (tmp_path / "out" / "report.md").is_file() and not list((tmp_path / "out").glob("*.png"))


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_installs_only_the_package_and_reruns_over_its_own_report(tmp_path):
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    plan = _make_plan("demo", tmp_path)
    installs = [line for line in plan.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs == [".venv/bin/python -m pip install --quiet -e ."]  # no test or docs extras
    assert plan.splitlines()[-1] == ".venv/bin/robust-cli benchmark --overwrite"
    assert plan.startswith("echo ")  # it says what it is doing
