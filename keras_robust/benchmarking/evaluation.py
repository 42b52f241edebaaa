"""Evaluate several models on clean and corrupted copies of one image set.

The corrupted copies are made on a producer thread while the models evaluate
the previous copy (a bounded queue: at most `QUEUE_SIZE` copies wait), so the
wall time is about the larger of corrupting and inferring, not their sum.
"""

import queue
import threading
import time
from typing import NamedTuple

import numpy as np

from keras_robust import distribution, metrics

# Corrupted copies made ahead of the models: enough to hide the jitter of either side, few for memory.
QUEUE_SIZE = 2


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
    accepted = entries[0].levels if entries else metrics.SEVERITIES
    bad = [s for s in severities if s not in accepted]
    if bad or not severities:
        raise ValueError(f"Severities must be among {accepted}. Received: {list(severities)}")
    return [Task(entry.name.split("/", 1)[1], severity, entry, seed) for entry in entries for severity in severities]


class Timings(NamedTuple):
    """Seconds spent by one `evaluate_timed` run.

    Args:
        corruption: wall time spent applying the tasks (making the corrupted
            copies), summed over the tasks.
        inference: wall time spent in the models' predictions, clean and
            corrupted, summed over models and tasks.
        wall: wall time of the whole evaluation: about the larger of the two
            when they overlap, their sum when they do not.
    """

    corruption: float
    inference: float
    wall: float


class _Copies:
    """`(distorted, labels)` of each task in order; with `overlap`, made ahead on a producer thread."""

    def __init__(self, tasks, images, labels, overlap):
        self.tasks, self.images, self.labels = tasks, images, labels
        self.seconds = 0.0
        self._thread, self._queue, self._stop = None, queue.Queue(maxsize=QUEUE_SIZE), threading.Event()
        if overlap:
            self._thread = threading.Thread(target=self._produce, name="keras_robust_benchmark", daemon=True)
            self._thread.start()

    def _apply(self, task):
        start = time.perf_counter()
        item = task.apply(self.images)
        self.seconds += time.perf_counter() - start
        return item if isinstance(item, tuple) else (item, self.labels)  # a released set brings its own labels

    def _put(self, item):
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self):
        try:
            for task in self.tasks:
                if not self._put(self._apply(task)):
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which raises it
            self._put(error)

    def take(self, task):
        """The copy of `task` (the next one in order)."""
        if self._thread is None:
            return self._apply(task)
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self):
        """Stops the producer (when the evaluation ends early) and waits for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def evaluate_timed(models, images, labels, tasks, *, batch_size=256, progress=None, overlap=True, strategy=None):
    """`evaluate`'s results and the `Timings` of the run.

    Args:
        models, images, labels, tasks, batch_size, progress: as `evaluate`.
        overlap: make the corrupted copies on a producer thread while the
            models evaluate the previous one (same copies, same errors);
            `False` corrupts and evaluates in turn.
        strategy: None (one device), or a `tf.distribute.Strategy`: every
            batch is split across its replicas and the misclassified images
            are counted over the cluster
            (`keras_robust.distribution.classification_error`), the same
            errors as on one device; the models must be Keras models.

    Returns:
        `(results, timings)`.

    Example:

    ```python
    import numpy as np
    from keras_robust.benchmarking.evaluation import distortion_tasks, evaluate_timed

    def always_zero(images):
        return np.tile([1.0, 0.0], (len(images), 1))

    images, labels = np.full((4, 32, 32, 3), 128, np.uint8), np.array([0, 0, 1, 1])
    results, timings = evaluate_timed({"zero": always_zero}, images, labels, distortion_tasks(["fog"], (1,)))
    assert results["zero"]["errors"]["fog"][1] == 50.0 and timings.wall >= timings.corruption
    ```
    """
    start, inference, tasks = time.perf_counter(), 0.0, list(tasks)

    def error(model, x, y):
        nonlocal inference
        began = time.perf_counter()
        if strategy is None:
            value = metrics.classification_error(model, x, y, batch_size=batch_size)
        else:
            value = distribution.classification_error(model, x, y, batch_size, strategy)
        inference += time.perf_counter() - began
        return value

    copies = _Copies(tasks, images, labels, overlap)  # the producer starts on the first copies now
    try:
        results = {name: {"clean_error": error(model, images, labels), "errors": {}} for name, model in models.items()}
        for task in (progress or iter)(tasks):
            distorted, task_labels = copies.take(task)
            for name, model in models.items():
                results[name]["errors"].setdefault(task.group, {})[task.level] = error(model, distorted, task_labels)
    finally:
        copies.close()
    return results, Timings(copies.seconds, inference, time.perf_counter() - start)


def evaluate(models, images, labels, tasks, *, batch_size=256, progress=None, overlap=True):
    """Errors in % of each model on the clean images and after each task.

    Args:
        models: dict name -> model (a Keras model or a callable).
        images: uint8 array (N, H, W, C).
        labels: N integer labels.
        tasks: `Task`s: each is applied once and its result shared by all
            models.
        batch_size: images per prediction batch.
        progress: optional callable wrapping the task list (a progress bar).
        overlap: corrupt on a producer thread while the models evaluate (see
            `evaluate_timed`).

    Returns:
        dict name -> {"clean_error": float, "errors": {group: {level: error}}}.
    """
    return evaluate_timed(models, images, labels, tasks, batch_size=batch_size, progress=progress,
                          overlap=overlap)[0]


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


def corruption_errors(
    model,
    images,
    labels,
    names=None,
    severities=metrics.SEVERITIES,
    *,
    preset="cifar",
    seed=0,
    batch_size=256,
):
    """Errors of `model` on corrupted copies of `images`, in %.

    Args:
        model: a Keras model or a callable returning class scores.
        images: uint8 array (N, H, W, C).
        labels: N integer labels.
        names: corruption names (default: all of
            `keras_robust.corruptions.names()`).
        severities: severities to evaluate, each in 1..5.
        preset: parameter preset of `keras_robust.corruptions.corrupt`.
        seed: seed of the random corruptions, for reproducible results.
        batch_size: images per prediction batch.

    Returns:
        dict name -> list of errors, one per severity.
    """
    from keras_robust import corruptions

    names = list(corruptions.names() if names is None else names)
    errors = {}
    for name in names:
        errors[name] = [
            metrics.classification_error(
                model,
                corruptions.corrupt(images, name, severity, preset=preset, seed=seed),
                labels,
                batch_size=batch_size,
            )
            for severity in severities
        ]
    return errors
