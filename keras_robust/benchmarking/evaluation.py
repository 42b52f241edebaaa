"""Evaluate several models on clean and corrupted copies of one image set."""

import numpy as np

from keras_robust import metrics


def distortion_tasks(names, severities, *, preset="cifar", seed=0):
    """`(corruption, severity, apply)` of every corruption and severity.

    `apply(images) -> images` corrupts uint8 images with
    `keras_robust.corruptions.corrupt` (which also takes gray images).
    """
    from keras_robust import corruptions

    known = corruptions.names()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"Unknown corruption(s) {unknown}. Accepted: {', '.join(known)}.")
    bad = [s for s in severities if s not in metrics.SEVERITIES]
    if bad or not severities:
        raise ValueError(f"Severities must be among {metrics.SEVERITIES}. Received: {list(severities)}")

    def task(name, severity):
        return lambda images: corruptions.corrupt(images, name, severity, preset=preset, seed=seed)

    return [(name, severity, task(name, severity)) for name in names for severity in severities]


def evaluate(models, images, labels, tasks, *, batch_size=256, progress=None):
    """Errors in % of each model on the clean images and after each task.

    Args:
        models: dict name -> model (a Keras model or a callable).
        images: uint8 array (N, H, W, C).
        labels: N integer labels.
        tasks: `(group, level, apply)` triples: each `apply(images)` is
            evaluated once and its result shared by all models.
        batch_size: images per prediction batch.
        progress: optional callable wrapping the task list (a progress bar).

    Returns:
        dict name -> {"clean_error": float, "errors": {group: {level: error}}}.
    """
    results = {
        name: {"clean_error": metrics.classification_error(model, images, labels, batch_size=batch_size), "errors": {}}
        for name, model in models.items()
    }
    for group, level, apply in (progress or iter)(tasks):
        distorted = apply(images)
        for name, model in models.items():
            error = metrics.classification_error(model, distorted, labels, batch_size=batch_size)
            results[name]["errors"].setdefault(group, {})[level] = error
    return results


def summarize(results, corruption_names, baseline):
    """Adds E_corr, mCE and rCE to each model of `results` from its corruption errors.

    Args:
        results: output of `evaluate`; the per-severity errors of
            `corruption_names` are used.
        corruption_names: the corruptions that enter E_corr, mCE and rCE.
        baseline: `"alexnet-cifar10"`, the name of a model of `results`
            (normalized by that model's errors on the same images), or
            `None` for unnormalized results only.
    """
    def severity_errors(name):
        return {c: list(results[name]["errors"][c].values()) for c in corruption_names}

    if baseline in results:
        reference = {"errors": severity_errors(baseline), "clean_error": results[baseline]["clean_error"]}
    else:
        reference = baseline
    for name, result in results.items():
        errors = severity_errors(name)
        result["corruption_error"] = float(np.mean([np.mean(e) for e in errors.values()]))
        result["mCE"] = result["rCE"] = None
        if reference is None:
            continue
        result["mCE"] = metrics.mean_corruption_error(errors, reference)
        try:
            result["rCE"] = metrics.relative_mean_corruption_error(errors, result["clean_error"], reference)
        except ValueError as error:  # the baseline's error did not grow on some corruption
            result["rCE"] = None
            result["rCE_undefined"] = str(error)
    return results
