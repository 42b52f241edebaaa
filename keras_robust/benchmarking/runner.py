"""One benchmark run: models, data, distortions, metrics, and the files it writes."""

from pathlib import Path

from keras_robust.benchmarking import evaluation, report

MNIST_DEFAULT = "embedded MNIST test set"


def pretrained_models(weights):
    """Builder names that have shipped pretrained `weights`."""
    from keras_robust.applications.torch_weights import registry

    names = [name for name, records in registry().items() if weights in records]
    if not names:
        raise ValueError(f"No model has pretrained weights={weights!r}.")
    return names


def load_models(specs, weights, seed=0):
    """`{name: model}` of builder names (with `weights`) or .keras files; untrained weights drawn with `seed`."""
    import keras

    from keras_robust.models import resolve_model

    keras.utils.set_random_seed(seed)

    return {Path(str(spec)).stem if str(spec).endswith(".keras") else str(spec): resolve_model(spec, weights)
            for spec in specs}


def resolve_baseline(baseline, models):
    """`"alexnet-cifar10"`, the name of one of `models`, or `None` for "none"."""
    if baseline in (None, "none"):
        return None
    if baseline == "alexnet-cifar10" or baseline in models:
        return baseline
    raise ValueError(
        f"Unknown baseline {baseline!r}. Accepted: 'alexnet-cifar10', 'none', or one of the "
        f"evaluated models: {', '.join(models)}."
    )


def run_benchmark(models, images, labels, corruption_names, severities, *, baseline, preset, seed,
                  extra_tasks=(), batch_size=256, progress=None):
    """Evaluate `models` and return the report dict (see `write_outputs`)."""
    tasks = evaluation.distortion_tasks(corruption_names, severities, preset=preset, seed=seed)
    results = evaluation.evaluate(models, images, labels, [*extra_tasks, *tasks],
                                  batch_size=batch_size, progress=progress)
    evaluation.summarize(results, corruption_names, baseline)
    return {
        "images": int(len(labels)),
        "image_shape": list(images.shape[1:]),
        "corruptions": list(corruption_names),
        "severities": list(severities),
        "preset": preset,
        "seed": seed,
        "baseline": baseline,
        "verdict": report.verdict(results, corruption_names),
        "models": results,
    }


def extra_groups(bench):
    corruptions = set(bench["corruptions"])
    first = next(iter(bench["models"].values()))
    return [group for group in first["errors"] if group not in corruptions]


def markdown(bench):
    """The report as Markdown: Table-2 and Table-3 style tables, then the verdict."""
    results, names = bench["models"], bench["corruptions"]
    parts = [f"# Robustness benchmark\n\nData: {bench['dataset']}, {bench['images']} images; "
             f"severities {bench['severities']}; seed {bench['seed']}.",
             "## Error E (%) per corruption, mean over severities\n\n" + report.corruption_table(results, names),
             "## Summary\n\n" + report.summary_table(results, bench["baseline"])]
    titles = {"gaussian_noise_variance": "Gaussian noise σ² (Fig. 4), accuracy %",
              "contrast_poisson": "contrast C + Poisson (Fig. 5), accuracy %"}
    for group in extra_groups(bench):
        parts.append(f"## {titles.get(group, group)}\n\n" + report.level_table(results, group, group))
    parts.append("**" + bench["verdict"] + "**")
    return "\n\n".join(parts) + "\n"


def write_outputs(bench, output, *, overwrite=False, figures=True):
    """Write results.json, results.csv, report.md and PNG figures into `output`, atomically."""
    from keras_robust.atomic import atomic_output

    if figures:
        from keras_robust.benchmarking import figures as plots

        plots._pyplot()  # fail before any work is written when matplotlib is missing
    with atomic_output(output, overwrite=overwrite) as tmp:
        tmp.mkdir()
        (tmp / "results.json").write_text(report.to_json(bench))
        (tmp / "results.csv").write_text(report.to_csv(bench["models"]))
        (tmp / "report.md").write_text(markdown(bench))
        if figures:
            results, names = bench["models"], bench["corruptions"]
            plots.error_per_corruption(results, names, tmp / "error_per_corruption.png")
            plots.accuracy_curves(results, names, tmp / "accuracy_vs_severity.png",
                                  xlabel="severity", title="Accuracy, mean over corruptions")
            for group in extra_groups(bench):
                title = report.VIEW_TITLES.get(group, group.replace("_", " "))
                plots.accuracy_curves(results, [group], tmp / f"accuracy_vs_{group}.png",
                                      xlabel=group.replace("_", " "), title=title)
    return Path(output)
