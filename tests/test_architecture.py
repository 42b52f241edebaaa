"""The package's layering, as docs/architecture.md draws it, checked against every import of every module."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "keras_robust"
# Imports that still break the rule, each with the change that removes it; the test fails when one is gone.
KNOWN_BREAKS = {}


def rows():
    """`[(layer, [module, ...]), ...]` of the architecture page's table, from the top row down."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text.split("| layer | modules | what it holds |")[1].split("\n\n")[0].strip().splitlines()[1:]
    cells = [row.strip("|").split("|") for row in table]
    return [(layer.strip(), re.findall(r"`(?:keras_robust\.)?([\w.]+)`", modules)) for layer, modules, *_ in cells]


def layers_of_modules():
    """`{module: depth}` from the architecture page's table (depth 0: foundations, the last row)."""
    return {name: level for level, (_, modules) in enumerate(reversed(rows())) for name in modules}


def method_imports(depth, methods):
    """`{(module, imported method)}` of every import of one method package by another."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        home = _home(".".join(path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__"), depth)
        targets = {_home(name, depth) for name in imported_modules(path)}
        found |= {(str(path.relative_to(ROOT)), target) for target in targets if home in methods and
                  target in methods and target != home}
    return found


def _home(name, depth):
    """The table's module holding `name` (`a.b.c` -> `a.b` or `a`), or None."""
    parts = name.split(".")
    return next((".".join(parts[:i]) for i in range(len(parts), 0, -1) if ".".join(parts[:i]) in depth), None)


def imported_modules(path):
    """Every keras_robust module `path` imports (at the top or inside functions), without the prefix."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found += [f"{node.module}.{alias.name}" for alias in node.names] if node.module == "keras_robust" \
                else [node.module]
    return [name.removeprefix("keras_robust.") for name in found if name.startswith("keras_robust.")]


def breaks(depth):
    """`{(module, imported home): (its depth, imported depth)}` of every import of a higher layer."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        home = _home(module.removeprefix("keras_robust."), depth)
        if module == "keras_robust":  # the package's lazy top-level names reach every layer by design
            continue
        assert home is not None, f"{module} is in no layer of docs/architecture.md"
        for name in imported_modules(path):
            target = _home(name, depth)
            assert target is not None, f"{module} imports keras_robust.{name}, in no layer of docs/architecture.md"
            if depth[target] > depth[home]:
                found[(module, target)] = (depth[home], depth[target])
    return found


def test_every_module_imports_only_its_own_layer_and_the_layers_below():
    assert breaks(layers_of_modules()).keys() == KNOWN_BREAKS.keys()


def test_the_check_sees_an_import_of_a_higher_layer():
    depth = layers_of_modules()
    assert depth["metrics"] == 0 and depth["cli"] == max(depth.values())
    assert _home("deepcorrect.inference", depth) == "deepcorrect"
    source = PACKAGE / "metrics.py"
    assert "benchmarking" not in imported_modules(source)
    assert imported_modules(Path(__file__)) == []  # this file imports nothing of the package
    fake = {**depth, "metrics": depth["cli"] + 1}  # metrics on top: nothing it imports is higher
    assert not any(module == "keras_robust.metrics" for module, _ in breaks(fake))
    fake = {**depth, "validation": depth["cli"] + 1}  # validation on top: every importer of it breaks the rule
    assert ("keras_robust.atomic", "validation") not in breaks(fake)  # atomic does not import validation
    assert any(target == "validation" for _, target in breaks(fake))


def test_a_method_imports_the_floors_only_never_another_method():
    methods = dict(rows())["methods"]
    assert {"pushpull", "deepcorrect"} <= set(methods)
    depth = layers_of_modules()
    assert method_imports(depth, methods) == set()
    # The check sees one: were deepcorrect.training a method of its own, deepcorrect's imports of it would count.
    fake = {**depth, "deepcorrect.training": depth["deepcorrect"]}
    assert ("keras_robust/deepcorrect/__init__.py", "deepcorrect.training") in method_imports(
        fake, ["deepcorrect", "deepcorrect.training"])
