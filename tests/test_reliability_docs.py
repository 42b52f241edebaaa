"""The reliability section of docs/architecture.md lists the hostile suite's cases per class: counted here from
pytest's own collection, so the numbers cannot go stale."""

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "tests/test_hostile_inputs.py"
# files of one class each
WHOLE_FILES = {"tests/test_kill_mid_write.py": "mid-write kills: SIGKILL at the 2nd, middle and last write, then "
                                               "the rerun",
               "tests/test_corruption_bands.py": "large images: bands of rows, memory bound, whole-image limit"}
SECTION = re.compile(r"^# --- (.+?) -+$")


def sections(path):
    """{test function name: title of the `# --- title ---` section above it}."""
    title, found = None, {}
    for line in (ROOT / path).read_text(encoding="utf-8").splitlines():
        match = SECTION.match(line)
        if match:
            title = match.group(1)
        test = re.match(r"def (test_\w+)\(", line)
        if test:
            found[test.group(1)] = title
    return found


def counted_table():
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                                HOSTILE, *WHOLE_FILES], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    ids = [line for line in collected.splitlines() if "::" in line]
    titles = sections(HOSTILE)
    counts = Counter()
    for node in ids:
        path, name = node.split("::", 1)
        counts[(WHOLE_FILES.get(path) or titles[name.split("[", 1)[0]], path)] += 1
    rows = [f"| {title} | `{path}` | {count} |" for (title, path), count in counts.items()]
    return "\n".join(["| class | file | cases |", "|---|---|---:|", *rows, f"| **all** | | **{len(ids)}** |"])


def test_the_docs_list_the_hostile_suites_classes_and_counts():
    docs = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    expected = counted_table()
    assert expected in docs, f"update the hostile-suite table of docs/architecture.md to:\n\n{expected}\n"
