"""Evaluate several models on clean and corrupted copies of one image set."""

from typing import NamedTuple

import numpy as np

from keras_robust import metrics


class Task(NamedTuple):
    """One distortion of the registry at one level, as `evaluate` runs it.

    Args:
        group: the key of its errors in the results (the corruption name, or
            `gaussian_noise_variance` / `contrast_poisson` for the push-pull
            paper's Figs. 4 and 5).
        level: the level (severity 1-5 for the 19 corruptions).
        distortion: a `keras_robust.corruptions.Distortion`.
        seed: seed of its randomness.
    """

    group: str
    level: object
    distortion: object
    seed: int = 0

    def apply(self, images):
        """The distorted images (uint8, or float32 on 0..255 for the authors' unclipped noises)."""
        return self.distortion.apply(images, self.level, seed=self.seed)


def distortion_tasks(names, severities, *, preset="cifar", seed=0):
    """A `Task` per corruption of `names` and severity, from the registry (`<preset>/<name>`).

    Example:

    ```python
    from keras_robust.benchmarking.evaluation import distortion_tasks

    tasks = distortion_tasks(["fog"], (1, 5))
    assert [(t.group, t.level, t.distortion.name) for t in tasks] == [("fog", 1, "cifar/fog"), ("fog", 5, "cifar/fog")]
    ```
    """
    from keras_robust import corruptions

    known = corruptions.names()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"Unknown corruption(s) {unknown}. Accepted: {', '.join(known)}.")
    if preset not in corruptions.PRESETS:
        raise ValueError(f"Unknown preset. Received: preset={preset!r}; accepted: {', '.join(corruptions.PRESETS)}.")
    entries = [corruptions.get_distortion(f"{preset}/{name}") for name in names]
    accepted = entries[0].levels if entries else (1, 2, 3, 4, 5)
    bad = [s for s in severities if s not in accepted]
    if bad or not severities:
        raise ValueError(f"Severities must be among {accepted}. Received: {list(severities)}")
    return [Task(entry.name.split("/", 1)[1], severity, entry, seed) for entry in entries for severity in severities]


def evaluate(models, images, labels, tasks, *, batch_size=256, progress=None):
    """Errors in % of each model on the clean images and after each task.

    Args:
        models: dict name -> model (a Keras model or a callable).
        images: uint8 array (N, H, W, C).
        labels: N integer labels.
        tasks: `Task`s: each is applied once and its result shared by all
            models.
        batch_size: images per prediction batch.
        progress: optional callable wrapping the task list (a progress bar).

    Returns:
        dict name -> {"clean_error": float, "errors": {group: {level: error}}}.
    """
    results = {
        name: {"clean_error": metrics.classification_error(model, images, labels, batch_size=batch_size), "errors": {}}
        for name, model in models.items()
    }
    for task in (progress or iter)(tasks):
        distorted, task_labels = task.apply(images), labels
        if isinstance(distorted, tuple):  # a released set (CIFAR-10-C) brings its own images and labels
            distorted, task_labels = distorted
        for name, model in models.items():
            error = metrics.classification_error(model, distorted, task_labels, batch_size=batch_size)
            results[name]["errors"].setdefault(task.group, {})[task.level] = error
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
