"""Results of a transfer evaluation: per model, distortion and level, and averaged over levels."""

import csv
import json

import numpy as np

from keras_robust.atomic import atomic_output

CSV_FIELDS = ("model", "distortion", "level", "accuracy", "std", "split_accuracies", "C")


class TransferResults:
    """Mean per-class accuracies of one transfer evaluation.

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
        lines = [_row(header), _row(["---"] * len(header))]
        for model in self.models():
            lines.append(_row([model] + [f"{self.accuracy(model, *c):.4f}" for c in conditions]))
        if not self.distortions():
            return "\n".join(lines)
        summary = self.summary()
        columns = ["clean"] + [f"{name} (mean of levels)" for name in self.distortions()]
        lines += ["", _row(["model"] + columns), _row(["---"] * (len(columns) + 1))]
        for model, values in summary.items():
            lines.append(_row([model] + [f"{value:.4f}" for value in values.values()]))
        return "\n".join(lines)

    def to_dict(self):
        return {"dataset": self.dataset, "protocol": self.protocol, "results": self.rows,
                "summary": self.summary()}

    def save_json(self, path, overwrite=True):
        with atomic_output(path, overwrite=overwrite) as temporary:
            temporary.write_text(json.dumps(self.to_dict(), indent=2))

    def save_csv(self, path, overwrite=True):
        with atomic_output(path, overwrite=overwrite) as temporary, open(temporary, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for row in self.rows:
                writer.writerow({**row, "split_accuracies": " ".join(f"{a:.4f}" for a in row["split_accuracies"]),
                                 "C": " ".join(f"{c:g}" for c in row["C"]),
                                 "level": "" if row["level"] is None else row["level"]})


def _row(cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"
