"""Results of a transfer evaluation: per model, distortion and level, and averaged over levels."""

import numpy as np

from keras_robust.results import Result, csv_text, markdown_table

CSV_FIELDS = ("model", "distortion", "level", "accuracy", "std", "split_accuracies", "C")


class TransferResults(Result):
    """Mean per-class accuracies (fractions, 0-1) of one transfer evaluation.

    A `keras_robust.results.Result`: `save("out.json")` writes the JSON,
    `save("out.csv")` the CSV, `TransferResults.load("out.json")` reads it.

    Args:
        dataset: name of the target image set.
        protocol: the settings of the run (splits, images, SVM), stored with
            the results.
    """

    def __init__(self, dataset, protocol):
        self.dataset = dataset
        self.protocol = dict(protocol)
        self.rows = []

    def add(self, model, distortion, level, split_accuracies, Cs):
        """Record the accuracies of one model on one condition (level None: clean)."""
        self.rows.append({
            "model": model, "distortion": distortion, "level": level,
            "accuracy": float(np.mean(split_accuracies)), "std": float(np.std(split_accuracies)),
            "split_accuracies": [float(a) for a in split_accuracies], "C": [float(c) for c in Cs],
        })

    def accuracy(self, model, distortion, level=None):
        """Mean accuracy over splits; `level=None` of a distortion averages its levels."""
        rows = [r for r in self.rows if r["model"] == model and r["distortion"] == distortion]
        if level is not None or distortion == "clean":
            rows = [r for r in rows if r["level"] == level]
        if not rows:
            raise KeyError(f"No result for model={model!r}, distortion={distortion!r}, level={level!r}")
        return float(np.mean([r["accuracy"] for r in rows]))

    def models(self):
        return list(dict.fromkeys(r["model"] for r in self.rows))

    def distortions(self):
        return list(dict.fromkeys(r["distortion"] for r in self.rows if r["distortion"] != "clean"))

    def summary(self):
        """`{model: {"clean": acc, <distortion>: acc averaged over levels}}` (Tables V-VII)."""
        return {
            model: {name: self.accuracy(model, name) for name in ["clean", *self.distortions()]}
            for model in self.models()
        }

    def to_markdown(self):
        """Per-level table and the averaged table, as Markdown."""
        conditions = [("clean", None)] + list(dict.fromkeys(
            (r["distortion"], r["level"]) for r in self.rows if r["distortion"] != "clean"
        ))
        header = ["model"] + [name if level is None else f"{name} {level}" for name, level in conditions]
        rows = [[model] + [f"{self.accuracy(model, *c):.4f}" for c in conditions] for model in self.models()]
        text = markdown_table(header, rows)
        if not self.distortions():
            return text + "\n"
        columns = ["clean"] + [f"{name} (mean of levels)" for name in self.distortions()]
        rows = [[model] + [f"{value:.4f}" for value in values.values()] for model, values in self.summary().items()]
        return text + "\n\n" + markdown_table(["model", *columns], rows) + "\n"

    def to_dict(self):
        """Dataset, protocol, one row per model and condition, and the summary."""
        return {"dataset": self.dataset, "protocol": self.protocol, "results": self.rows,
                "summary": self.summary()}

    @classmethod
    def from_dict(cls, data):
        """The results back from `to_dict()`'s output."""
        if not isinstance(data, dict) or not {"dataset", "protocol", "results"} <= set(data):
            raise ValueError("Not transfer results: expected a JSON object with 'dataset', 'protocol' and "
                             f"'results'. Received: {type(data).__name__}")
        results = cls(data["dataset"], data["protocol"])
        results.rows = [dict(row) for row in data["results"]]
        return results

    def to_csv(self):
        """One row per model and condition: accuracy, std, each split's accuracy and chosen C."""
        rows = [[row["model"], row["distortion"], "" if row["level"] is None else row["level"],
                 row["accuracy"], row["std"], " ".join(f"{a:.4f}" for a in row["split_accuracies"]),
                 " ".join(f"{c:g}" for c in row["C"])] for row in self.rows]
        return csv_text(CSV_FIELDS, rows)
