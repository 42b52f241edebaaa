"""Corruption-robustness metrics: E (and top-1 accuracy), CE_c, mCE, rCE_c and rCE.

Definitions follow Hendrycks & Dietterich (2019) as used by Strisciuglio et
al. (2020), equations (1) and (2). Every error is a classification error in
percent. A model's errors on the corrupted data are given as a mapping
`corruption name -> error`, where an error is either one number (the mean over
the severities) or a sequence of per-severity errors. Normalized values are in
percent of the baseline's: 100 means "as good as the baseline".

Example:

>>> from keras_robust import metrics
>>> errors = {"gaussian_noise": 57.41, "fog": 16.56}
>>> round(metrics.mean_corruption_error(errors), 1)
102.0
>>> round(metrics.relative_mean_corruption_error(errors, clean_error=7.56), 1)
128.8
"""

from collections.abc import Mapping, Sequence
import math

import numpy as np

from keras_robust.validation import check_int

SEVERITIES = (1, 2, 3, 4, 5)  # the benchmark's severity axis, for every corruption and every package module

# Appendix 2 of Strisciuglio et al. (2020): their AlexNet on CIFAR-10-C, in %.
ALEXNET_CIFAR10 = {
    "clean_error": 13.87,
    "errors": {
        "gaussian_noise": 38.44,
        "shot_noise": 31.82,
        "impulse_noise": 46.13,
        "speckle_noise": 31.26,
        "defocus_blur": 23.53,
        "glass_blur": 40.97,
        "motion_blur": 29.32,
        "zoom_blur": 26.89,
        "gaussian_blur": 27.78,
        "snow": 26.94,
        "frost": 28.26,
        "fog": 30.31,
        "spatter": 25.19,
        "brightness": 17.84,
        "contrast": 46.77,
        "elastic_transform": 22.25,
        "pixelate": 18.36,
        "jpeg_compression": 18.48,
        "saturate": 22.15,
    },
}
BASELINES = {"alexnet-cifar10": ALEXNET_CIFAR10}


def _check_percent(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{what} must be a number in percent. Received: {value!r}")
    value = float(value)
    if not math.isfinite(value) or not 0.0 <= value <= 100.0:
        raise ValueError(f"{what} must be an error in percent, in [0, 100]. Received: {value}")
    return value


def _severity_errors(value, what):
    """A float (mean over severities) or a tuple of per-severity floats."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        return _check_percent(value, what)
    values = tuple(_check_percent(v, f"each error of {what}") for v in np.ravel(value))
    if not values:
        raise ValueError(f"{what} holds no error. Received: {value!r}")
    return values


def _check_errors(errors, what):
    if not isinstance(errors, Mapping) or not errors:
        raise ValueError(
            f"{what} must be a non-empty mapping corruption name -> error in % "
            f"(one number, or one per severity). Received: {errors!r}"
        )
    return {name: _severity_errors(value, f"{what}[{name!r}]") for name, value in errors.items()}


def resolve_baseline(baseline, clean_error=None):
    """The baseline as `(errors, clean_error)`.

    Args:
        baseline: the name of a built-in baseline (`"alexnet-cifar10"`), a
            mapping `{"errors": {...}, "clean_error": x}` (the results of an
            evaluated model, as `robust-cli benchmark` writes them), or a plain
            mapping corruption name -> error.
        clean_error: the baseline's clean error in %, overriding the one of
            `baseline`; needed for rCE when `baseline` holds none.

    Returns:
        `(errors, clean_error)`: the checked errors and the clean error (or
        `None` when unknown).
    """
    if isinstance(baseline, str):
        if baseline not in BASELINES:
            raise ValueError(
                f"Unknown baseline. Accepted names: {sorted(BASELINES)}, or a mapping "
                f"of corruption errors. Received: baseline={baseline!r}"
            )
        baseline = BASELINES[baseline]
    if isinstance(baseline, Mapping) and "errors" in baseline:
        if clean_error is None:
            clean_error = baseline.get("clean_error")
        baseline = baseline["errors"]
    errors = _check_errors(baseline, "baseline")
    if clean_error is not None:
        clean_error = _check_percent(clean_error, "The baseline's clean error")
    return errors, clean_error


def _paired_sums(model_value, baseline_value, name):
    """Sums over severities of model and baseline errors, as in equation (1).

    A single number stands for the mean over all five severities. Two
    per-severity sequences must cover the same severities.
    """
    model_many = isinstance(model_value, tuple)
    baseline_many = isinstance(baseline_value, tuple)
    if model_many and baseline_many:
        if len(model_value) != len(baseline_value):
            raise ValueError(
                f"{name!r}: the model has {len(model_value)} severities and the "
                f"baseline {len(baseline_value)}; they must be evaluated on the same ones."
            )
        return np.array(model_value), np.array(baseline_value)
    for value, who in ((model_value, "model"), (baseline_value, "baseline")):
        if isinstance(value, tuple) and len(value) != len(SEVERITIES):
            raise ValueError(
                f"{name!r}: the {who} gives {len(value)} per-severity errors and the "
                f"other side one mean over {len(SEVERITIES)} severities; give all "
                f"{len(SEVERITIES)} or the same severities on both sides."
            )
    model_array = np.array(model_value if model_many else [model_value] * len(SEVERITIES))
    baseline_array = np.array(baseline_value if baseline_many else [baseline_value] * len(SEVERITIES))
    return model_array, baseline_array


def _common(errors, baseline_errors):
    missing = sorted(set(errors) - set(baseline_errors))
    if missing:
        raise ValueError(
            f"The baseline has no error for {missing}. It covers: {sorted(baseline_errors)}."
        )
    return list(errors)


def corruption_error(errors, baseline="alexnet-cifar10"):
    """Normalized corruption error CE_c (equation 1) of each corruption, in %.

    Args:
        errors: mapping corruption name -> error in % (one number, the mean
            over severities, or one number per severity).
        baseline: see `resolve_baseline`.

    Returns:
        dict corruption name -> 100 * sum_s E_{c,s} / sum_s E^baseline_{c,s}.
    """
    errors = _check_errors(errors, "errors")
    baseline_errors, _ = resolve_baseline(baseline)
    result = {}
    for name in _common(errors, baseline_errors):
        model_sum, baseline_sum = (a.sum() for a in _paired_sums(errors[name], baseline_errors[name], name))
        if baseline_sum == 0:
            raise ValueError(f"The baseline's error on {name!r} is 0: CE is undefined.")
        result[name] = 100.0 * model_sum / baseline_sum
    return result


def relative_corruption_error(errors, clean_error, baseline="alexnet-cifar10", *, baseline_clean_error=None):
    """Relative corruption error rCE_c (equation 2) of each corruption, in %.

    Args:
        errors: mapping corruption name -> error in % (see `corruption_error`).
        clean_error: the model's error on the clean data, in %.
        baseline: see `resolve_baseline`.
        baseline_clean_error: the baseline's clean error, in %, when
            `baseline` does not hold it.

    Returns:
        dict corruption name -> 100 * sum_s (E_{c,s} - E_clean) /
        sum_s (E^baseline_{c,s} - E^baseline_clean).
    """
    errors = _check_errors(errors, "errors")
    clean_error = _check_percent(clean_error, "clean_error")
    baseline_errors, baseline_clean = resolve_baseline(baseline, baseline_clean_error)
    if baseline_clean is None:
        raise ValueError(
            "rCE needs the baseline's clean error: pass baseline_clean_error=..., or a "
            "baseline mapping with 'errors' and 'clean_error'. Received: no clean error."
        )
    result = {}
    for name in _common(errors, baseline_errors):
        model, base = _paired_sums(errors[name], baseline_errors[name], name)
        gap = (base - baseline_clean).sum()
        # errors are multiples of 100 / N: a summed gap this small is float round-off of zero
        if gap <= 1e-9:
            raise ValueError(
                f"rCE is undefined: equation 2 divides by the baseline's error growth on {name!r}, and the "
                f"baseline's error there did not exceed its clean error (summed over severities: {gap:+.2f} points)."
            )
        result[name] = 100.0 * (model - clean_error).sum() / gap
    return result


def mean_corruption_error(errors, baseline="alexnet-cifar10"):
    """mCE: the mean of `corruption_error` over the corruptions of `errors`, in %."""
    return float(np.mean(list(corruption_error(errors, baseline).values())))


def relative_mean_corruption_error(errors, clean_error, baseline="alexnet-cifar10", *, baseline_clean_error=None):
    """rCE: the mean of `relative_corruption_error` over the corruptions, in %."""
    values = relative_corruption_error(
        errors, clean_error, baseline, baseline_clean_error=baseline_clean_error
    )
    return float(np.mean(list(values.values())))


def predicted_classes(model, images, *, batch_size=256):
    """The class `model` predicts for each image: the argmax of its scores, batch by batch.

    A Keras model runs through `predict_on_batch` (without `predict`'s set-up
    on every call); any other callable is called on each batch.

    Args:
        model: a Keras model, or a callable mapping a batch of images to class
            scores (an object with only `predict` works too).
        images: array (N, H, W, C) of raw pixels in [0, 255].
        batch_size: images per prediction batch, a positive int.

    Returns:
        int array (N,) of predicted classes.

    Example:

    >>> import numpy as np
    >>> from keras_robust.metrics import predicted_classes
    >>> predicted_classes(lambda batch: batch, np.eye(3)[[2, 0, 1]], batch_size=2).tolist()
    [2, 0, 1]
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if hasattr(model, "predict_on_batch"):
        call = model.predict_on_batch
    elif callable(model):
        call = model
    elif hasattr(model, "predict"):
        def call(batch):
            return model.predict(batch, verbose=0)
    else:
        raise ValueError(
            "model must be a Keras model (with predict) or a callable returning class "
            f"scores. Received: {type(model).__name__}"
        )
    batches = [np.argmax(np.asarray(call(images[i : i + batch_size])), axis=-1)
               for i in range(0, len(images), batch_size)]
    return np.concatenate(batches) if batches else np.zeros((0,), "int64")


def _predicted_and_labels(model, images, labels, batch_size):
    labels = np.asarray(labels).reshape(-1)
    if len(images) != len(labels) or len(labels) == 0:
        raise ValueError(
            f"images and labels must be non-empty and of equal length. Received: "
            f"{len(images)} images and {len(labels)} labels."
        )
    return predicted_classes(model, images, batch_size=batch_size), labels


def accuracy(model, images, labels, *, batch_size=256):
    """Top-1 accuracy of `model` on `images`, a fraction in [0, 1].

    The complement of `classification_error` (which is in percent), computed
    from the same predictions.

    Args:
        model, images, labels, batch_size: as `classification_error`.

    Example:

    >>> import numpy as np
    >>> from keras_robust import metrics
    >>> scores = np.eye(4)  # image i scores class i highest
    >>> metrics.accuracy(lambda batch: batch, scores, [0, 1, 2, 0]), metrics.classification_error(
    ...     lambda batch: batch, scores, [0, 1, 2, 0])
    (0.75, 25.0)
    """
    predicted, labels = _predicted_and_labels(model, images, labels, batch_size)
    return float(np.mean(predicted == labels))


def classification_error(model, images, labels, *, batch_size=256):
    """Classification error E of `model` on `images`, in %.

    Args:
        model: a Keras model, or a callable mapping a batch of images to class
            scores.
        images: array (N, H, W, C) of raw pixels in [0, 255].
        labels: N integer class labels.
        batch_size: images per prediction batch.

    Example:

    >>> import numpy as np
    >>> from keras_robust.metrics import classification_error
    >>> classification_error(lambda batch: batch, np.eye(4), [0, 1, 2, 0])
    25.0
    """
    predicted, labels = _predicted_and_labels(model, images, labels, batch_size)
    return 100.0 * float(np.mean(predicted != labels))
