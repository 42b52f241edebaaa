"""`BenchmarkResult`: the benchmark's tables, verdict, JSON, CSV and figures, rendered from one object."""

from keras_robust.results import Result, csv_text, markdown_table

VIEW_TITLES = {
    "corruptions": "the 19 corruptions",
    "gaussian_noise_variance": "Gaussian noise (Fig. 4)",
    "contrast_poisson": "contrast + Poisson noise (Fig. 5)",
}
LEVEL_TITLES = {"gaussian_noise_variance": "Gaussian noise σ² (Fig. 4)",
                "contrast_poisson": "contrast C + Poisson (Fig. 5)"}


TIMING_KEYS = ("corruption", "inference", "wall")


def _number(value, digits=2):
    return "–" if value is None else f"{value:.{digits}f}"


def _mean(values):
    values = list(values)
    return sum(values) / len(values)


def _level_key(text):
    """A level read back from JSON (keys are strings there): an int or a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)


class BenchmarkResult(Result):
    """Errors of several models on clean and corrupted copies of one image set.

    Errors are in percent (0-100), accuracies fractions (0-1). Returned by
    `keras_robust.benchmarking.benchmark`; `save(folder)` writes
    `results.json`, `results.csv`, `report.md` and PNG figures.

    Args:
        models: dict model name -> `{"clean_error": E_clean, "errors": {group:
            {level: E}}, "corruption_error": E_corr, "mCE": ..., "rCE": ...}`,
            as `keras_robust.benchmarking.evaluation.summarize` fills it.
        dataset: words naming the data (shown in the report).
        corruptions: the corruptions that enter E_corr, mCE and rCE.
        levels: their severities.
        baseline: what mCE and rCE are normalised by: a model's name,
            `"alexnet-cifar10"`, or `None`.
        images: number of images; image_shape: their shape.
        preset: corruption parameter preset; seed: seed of the corruptions.
        notes: sentences printed under the summary (what the data and the
            normalisation mean).
        timings: seconds of the run, `{"corruption": ..., "inference": ...,
            "wall": ...}` (`keras_robust.benchmarking.evaluation.Timings`),
            or `None` when not measured.

    Example:

    >>> from keras_robust.benchmarking import BenchmarkResult
    >>> result = BenchmarkResult(
    ...     {"A": {"clean_error": 10.0, "errors": {"fog": {1: 20.0}}, "corruption_error": 20.0,
    ...            "mCE": None, "rCE": None}},
    ...     dataset="demo", corruptions=["fog"], levels=[1])
    >>> result.accuracy("A", "fog", 1)
    0.8
    """

    def __init__(self, models, *, dataset, corruptions, levels, baseline=None, images=None, image_shape=None,
                 preset="cifar", seed=0, notes=(), timings=None):
        self.models = models
        self.dataset = dataset
        self.corruptions = list(corruptions)
        self.levels = list(levels)
        self.baseline = baseline
        self.images = images
        self.image_shape = None if image_shape is None else list(image_shape)
        self.preset = preset
        self.seed = seed
        self.notes = list(notes)
        self.timings = None if timings is None else {k: float(timings[k]) for k in TIMING_KEYS}

    def error(self, model, group=None, level=None):
        """Error in % of `model`: clean (`group=None`), at one level, or averaged over the levels of `group`."""
        result = self.models[model]
        if group is None:
            return result["clean_error"]
        levels = result["errors"][group]
        return levels[level] if level is not None else _mean(levels.values())

    def accuracy(self, model, group=None, level=None):
        """Accuracy (a fraction) of `model`, as `error` selects it."""
        return round(1 - self.error(model, group, level) / 100, 10)

    @property
    def extra_groups(self):
        """Distortion groups evaluated besides the corruptions (e.g. Fig. 4's Gaussian noise)."""
        first = next(iter(self.models.values()))
        return [group for group in first["errors"] if group not in self.corruptions]

    def corruption_table(self):
        """Markdown table in the style of Table 2: E per corruption (mean over severities)."""
        names = list(self.models)
        rows = [[c, *(_number(self.error(n, c)) for n in names)] for c in self.corruptions]
        rows.append(["**E_corr**", *(_number(self.models[n]["corruption_error"]) for n in names)])
        return markdown_table(["corruption", *names], rows)

    def summary_table(self):
        """Markdown table in the style of Table 3: E_clean, E_corr, mCE, rCE."""
        label = "unnormalised" if self.baseline is None else f"{self.baseline} = 100"
        rows = [[name, _number(r["clean_error"]), _number(r["corruption_error"]), _number(r["mCE"], 1),
                 _number(r["rCE"], 1)] for name, r in self.models.items()]
        table = markdown_table(["model", "E_clean", "E_corr", f"mCE ({label})", f"rCE ({label})"], rows)
        reasons = sorted({r["rCE_undefined"] for r in self.models.values() if r.get("rCE_undefined")})
        return "\n\n".join([table, *(f"rCE –: {reason}" for reason in reasons)])

    def level_table(self, group):
        """Markdown table of the error (%) of each model at each level of `group`."""
        levels = list(next(iter(self.models.values()))["errors"][group])
        rows = [[name, _number(self.error(name)), *(_number(self.error(name, group, v)) for v in levels)]
                for name in self.models]
        return markdown_table([LEVEL_TITLES.get(group, group), "clean", *map(str, levels)], rows)

    def verdict(self):
        """Plain sentences: which model had the lowest mean error on each kind of distortion, and overall."""
        views = {"corruptions": self.corruptions, **{g: [g] for g in self.extra_groups}}
        wins = dict.fromkeys(self.models, 0)
        sentences = []
        for view, groups in views.items():
            errors = {name: _mean(self.error(name, g) for g in groups) for name in self.models}
            ranked = sorted(errors, key=errors.get)
            wins[ranked[0]] += 1
            others = ", ".join(f"{n} {errors[n]:.2f}%" for n in ranked[1:])
            growth = ", ".join(f"{n} {errors[n] - self.error(n):+.2f}" for n in ranked)
            sentences.append(
                f"On {VIEW_TITLES.get(view, view)}, {ranked[0]} had the lowest mean error: {errors[ranked[0]]:.2f}%"
                + (f" against {others}" if others else "") + f" (points over its clean error: {growth})."
            )
        if len(self.models) > 1 and len(views) > 1:
            best = max(wins, key=wins.get)
            tie = [n for n in wins if wins[n] == wins[best]]
            sentences.append(
                f"Overall: {best} was more robust on {wins[best]} of {len(views)} kinds of distortion."
                if len(tie) == 1 else f"Overall: a tie between {' and '.join(tie)}."
            )
        return " ".join(sentences)

    def timing_sentence(self):
        """The corruption, inference and wall times of the run, in words (empty when not measured)."""
        if not self.timings:
            return ""
        t = self.timings
        return (f"Timing: making the corrupted images took {t['corruption']:.1f} s and evaluating the models on "
                f"all the images {t['inference']:.1f} s; the two overlap (the next copy is corrupted while the "
                f"models evaluate the last), and the run took {t['wall']:.1f} s from the first corrupted image to "
                "the last prediction (loading the data and models and drawing the figures not counted).")

    def to_markdown(self):
        """The report: Table-2 and Table-3 style tables, the notes, level tables and the verdict."""
        preset = {"cifar": "CIFAR-10-C's", "imagenet": "ImageNet-C's"}.get(self.preset, repr(self.preset))
        parts = [f"# Robustness benchmark\n\nImages: {self.images} of {self.dataset}. Their corrupted copies were "
                 f"made here with {preset} generator parameters at severities {self.levels} (seed {self.seed}). "
                 "Every number is an error E in %.",
                 "## Error E (%) per corruption, mean over severities\n\n" + self.corruption_table(),
                 "## Summary\n\n" + self.summary_table(), *self.notes]
        for group in self.extra_groups:
            parts.append(f"## {LEVEL_TITLES.get(group, group)}, error E (%)\n\n" + self.level_table(group))
        parts.append("**" + self.verdict() + "**")
        parts += [self.timing_sentence()] if self.timings else []
        return "\n\n".join(parts) + "\n"

    def to_dict(self):
        """Every setting and measurement, plus the verdict."""
        return {"dataset": self.dataset, "images": self.images, "image_shape": self.image_shape,
                "corruptions": self.corruptions, "levels": self.levels, "preset": self.preset, "seed": self.seed,
                "baseline": self.baseline, "notes": self.notes, "verdict": self.verdict(), "models": self.models,
                "timings": self.timings}

    @classmethod
    def from_dict(cls, data):
        """The result back from `to_dict()`'s output (JSON level keys become numbers again)."""
        if not isinstance(data, dict) or not {"models", "corruptions", "levels"} <= set(data):
            raise ValueError("Not a benchmark result: expected a JSON object with 'models', 'corruptions' and "
                             f"'levels'. Received: {type(data).__name__}")
        models = {name: {**r, "errors": {g: {_level_key(str(k)): e for k, e in levels.items()}
                                         for g, levels in r["errors"].items()}}
                  for name, r in data["models"].items()}
        settings = {k: data[k] for k in ("baseline", "images", "image_shape", "preset", "seed", "notes", "timings")
                    if k in data}
        return cls(models, dataset=data.get("dataset", ""), corruptions=data["corruptions"], levels=data["levels"],
                   **settings)

    def to_csv(self):
        """One row per model, distortion and level: its error in % and accuracy as a fraction."""
        rows = []
        for name, result in self.models.items():
            rows.append([name, "clean", "", f"{result['clean_error']:.4f}", f"{self.accuracy(name):.6f}"])
            rows += [[name, group, level, f"{error:.4f}", f"{self.accuracy(name, group, level):.6f}"]
                     for group, levels in result["errors"].items() for level, error in levels.items()]
        return csv_text(["model", "distortion", "level", "error_percent", "accuracy"], rows)

    def check_figures(self):
        from keras_robust.benchmarking import figures

        figures.pyplot()

    def draw_figures(self, folder):
        """The figures of `figure_captions`, drawn into `folder`."""
        from keras_robust.benchmarking import figures

        figures.error_per_corruption(self, folder / "error_per_corruption.png")
        figures.error_curves(self, self.corruptions, folder / "error_vs_severity.png",
                             xlabel="severity", title="Error, mean over corruptions")
        for group in self.extra_groups:
            figures.error_curves(self, [group], folder / f"error_vs_{group}.png",
                                 xlabel=group.replace("_", " "), title=VIEW_TITLES.get(group, group))

    def figure_captions(self):
        """{file name: caption} of the figures `draw_figures` writes, in the order the report shows them."""
        return {"error_per_corruption.png": "Error E (%) per corruption, mean over severities",
                "error_vs_severity.png": "Error E (%) against severity, mean over the corruptions (clean first)",
                **{f"error_vs_{group}.png": f"Error E (%) under {VIEW_TITLES.get(group, group)} (clean first)"
                   for group in self.extra_groups}}
