"""PNG figures of benchmark results (needs the `plots` extra: matplotlib)."""

import numpy as np


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ValueError(
            "Figures need matplotlib: pip install 'keras_robust[plots]', or pass --no-figures."
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def error_per_corruption(results, corruption_names, path):
    """Grouped bars: mean error over severities of each model on each corruption."""
    plt = _pyplot()
    names = list(results)
    width = 0.8 / len(names)
    x = np.arange(len(corruption_names))
    figure, axes = plt.subplots(figsize=(max(6, 0.6 * len(corruption_names) + 2), 4))
    for index, name in enumerate(names):
        means = [np.mean(list(results[name]["errors"][c].values())) for c in corruption_names]
        axes.bar(x + (index - (len(names) - 1) / 2) * width, means, width, label=name)
    axes.set_xticks(x, [c.replace("_", " ") for c in corruption_names], rotation=60, ha="right")
    axes.set_ylabel("classification error E (%)")
    axes.set_title("Error per corruption (mean over severities)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def accuracy_curves(results, groups, path, *, xlabel, title):
    """Accuracy against level: one line per model, levels of `groups` averaged.

    Args:
        groups: distortion groups of `results` whose accuracies at each level
            are averaged (all corruptions for accuracy against severity, or
            one group such as the Gaussian-noise variances).
    """
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    for name, result in results.items():
        levels = list(result["errors"][groups[0]])
        accuracy = [100 - np.mean([result["errors"][g][level] for g in groups]) for level in levels]
        axes.plot(["clean", *map(str, levels)], [100 - result["clean_error"], *accuracy], marker="o", label=name)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("accuracy (%)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
