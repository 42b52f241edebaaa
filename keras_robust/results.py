"""Result objects: what a run measured, rendered and saved one way.

Every result of the package (`keras_robust.benchmarking.BenchmarkResult`,
`keras_robust.deepcorrect.FilterRanking`, `keras_robust.transfer.TransferResults`)
derives from `Result`: it renders itself with `to_dict()`, `to_markdown()`
and `to_csv()`, and `save(path, overwrite=False)` writes it through
`keras_robust.atomic`, refusing an existing target unless `overwrite=True`.
Units are the same in every result: errors in percent (0-100), accuracies as
fractions (0-1).
"""

import csv
import io
import json
import warnings
from pathlib import Path

from keras_robust.atomic import atomic_output

# File endings `Result.save` writes as one file; any other path is a folder.
FILE_FORMATS = (".json", ".csv", ".md")
FOLDER_FILES = {"results.json": "to_json", "results.csv": "to_csv", "report.md": "to_markdown"}


def markdown_table(header, rows):
    """A Markdown table of `header` cells and `rows` of cells (any values, shown with `str`)."""
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)


def csv_text(header, rows):
    """CSV text of `header` and `rows`, with a header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


class Result:
    """Base of the package's result objects: one rendering and one saving rule.

    Subclasses implement `to_dict()` (plain JSON types), `from_dict(data)`,
    `to_markdown()` and `to_csv()`; results with figures implement
    `draw_figures(folder)`.

    Example:

    >>> import os, tempfile
    >>> from keras_robust.deepcorrect import FilterRanking
    >>> ranking = FilterRanking(0.5, {"conv1": [0.1, 0.3]})
    >>> path = os.path.join(tempfile.mkdtemp(), "ranking.json")
    >>> _ = ranking.save(path)
    >>> FilterRanking.load(path).order("conv1").tolist()
    [1, 0]
    """

    def to_dict(self):
        """The result as a dict of plain JSON types."""
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data):
        """The result back from `to_dict()`'s output."""
        raise NotImplementedError

    def to_markdown(self):
        """The result as Markdown tables."""
        raise NotImplementedError

    def to_csv(self):
        """The result as CSV text, one measurement per row."""
        raise NotImplementedError

    def to_json(self):
        """`to_dict()` as indented JSON text."""
        return json.dumps(self.to_dict(), indent=1) + "\n"

    def draw_figures(self, folder):
        """Write PNG figures into `folder` (results without figures write none)."""

    def check_figures(self):
        """Raise `ImportError` if figures cannot be drawn here (results without figures never raise)."""

    def figure_captions(self):
        """{file name: caption} of the figures `draw_figures` writes; the saved report embeds them."""
        return {}

    def save(self, path, overwrite=False, *, figures=True):
        """Write the result to `path`, atomically.

        Args:
            path: a `.json`, `.csv` or `.md` file, written with `to_json`,
                `to_csv` or `to_markdown`; any other path is a folder that
                receives `results.json`, `results.csv`, `report.md` and the
                figures.
            overwrite: bool. If `False`, an existing `path` is refused with
                `FileExistsError` before anything is written.
            figures: bool, draw the figures into a folder. Where they cannot
                be drawn (matplotlib missing), the rest is still written and a
                warning says what was skipped.

        Returns:
            The `pathlib.Path` written.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in FILE_FORMATS:
            text = {".json": self.to_json, ".csv": self.to_csv, ".md": self.to_markdown}[suffix]()
            with atomic_output(path, overwrite=overwrite) as tmp:
                tmp.write_text(text, encoding="utf-8")
            return path
        if figures:
            try:
                self.check_figures()
            except ImportError as error:
                figures = False
                warnings.warn(f"Figures skipped; results.json, results.csv and report.md written to {path}: {error}",
                              stacklevel=2)
        with atomic_output(path, overwrite=overwrite) as tmp:
            tmp.mkdir()
            if figures:
                self.draw_figures(tmp)
            for name, method in FOLDER_FILES.items():
                (tmp / name).write_text(getattr(self, method)(), encoding="utf-8")
            embedded = [f"![{caption}]({file})" for file, caption in self.figure_captions().items()
                        if (tmp / file).is_file()]
            if embedded:  # links relative to the report: they render on GitHub, in MkDocs and in any viewer
                with (tmp / "report.md").open("a", encoding="utf-8") as report:
                    report.write("\n## Figures\n\n" + "\n\n".join(embedded) + "\n")
        return path

    @classmethod
    def load(cls, path):
        """Read a result written by `save` (a `.json` file, or a folder holding `results.json`)."""
        path = Path(path)
        file = path / "results.json" if path.is_dir() else path
        if not file.is_file():
            raise FileNotFoundError(f"No saved {cls.__name__} at {path}. Expected a .json file or a folder "
                                    "holding results.json.")
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:  # RecursionError: nested too deep
            raise ValueError(f"{file} is not a JSON file written by {cls.__name__}.save: "
                             f"{error or type(error).__name__}") from None
        try:
            return cls.from_dict(data)
        except (ValueError, TypeError, KeyError, AttributeError) as error:  # the file's content, not a bug here
            raise ValueError(f"{file} is not a {cls.__name__} written by save: {error}") from error
