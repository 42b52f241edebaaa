"""PNG figures of a `BenchmarkResult` (drawn with matplotlib, a dependency of the package)."""

import numpy as np


def missing():
    """Why figures cannot be drawn here (matplotlib not importable), or `None` when they can."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        return f"matplotlib cannot be imported ({error}): pip install matplotlib"
    return None


def pyplot():
    """matplotlib's pyplot on the Agg backend, or an ImportError saying how to install it."""
    reason = missing()
    if reason:
        raise ImportError(f"Figures need matplotlib: {reason}, or pass --no-figures (figures=False).")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def error_per_corruption(result, path):
    """Grouped bars: error E (%) of each model on each corruption, mean over severities."""
    plt = pyplot()
    names, corruptions = list(result.models), result.corruptions
    width = 0.8 / len(names)
    x = np.arange(len(corruptions))
    figure, axes = plt.subplots(figsize=(max(6, 0.6 * len(corruptions) + 2), 4))
    for index, name in enumerate(names):
        axes.bar(x + (index - (len(names) - 1) / 2) * width, [result.error(name, c) for c in corruptions],
                 width, label=name)
    axes.set_xticks(x, [c.replace("_", " ") for c in corruptions], rotation=60, ha="right")
    axes.set_ylabel("classification error E (%)")
    axes.set_title("Error per corruption (mean over severities)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def error_curves(result, groups, path, *, xlabel, title):
    """Error (%) against level, clean first: one line per model, the levels of `groups` averaged.

    Args:
        result: a `BenchmarkResult`.
        groups: distortion groups whose errors at each level are averaged
            (all corruptions for error against severity, or one group such
            as the Gaussian-noise variances of Fig. 4).
        path: PNG file to write.
        xlabel: label of the level axis.
        title: title of the figure.
    """
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    for name in result.models:
        levels = list(result.models[name]["errors"][groups[0]])
        error = [np.mean([result.error(name, g, level) for g in groups]) for level in levels]
        axes.plot(["clean", *map(str, levels)], [result.error(name), *error], marker="o", label=name)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("error (%)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
