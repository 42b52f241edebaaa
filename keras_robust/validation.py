"""Argument checks shared by the whole package, with one message style.

Every check returns the value in its plain Python form (`int`, `float`,
`bool`) or raises `ValueError` naming the argument, what is accepted and what
was received: "`filters` must be a positive integer. Received: filters=True".
"""

import math
import numbers

import numpy as np

# Longest text of a received value repeated in a message (values may come from files).
_SHOWN = 120


def _shown(value):
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def _fail(name, accepted, value):
    raise ValueError(f"`{name}` must be {accepted}. Received: {name}={_shown(value)}")


def _bounds(minimum, maximum, exclusive_minimum=False, exclusive_maximum=False):
    if minimum is not None and maximum is not None:
        return f" in {'(' if exclusive_minimum else '['}{minimum}, {maximum}{')' if exclusive_maximum else ']'}"
    if minimum is not None:
        return f" {'>' if exclusive_minimum else '>='} {minimum}"
    if maximum is not None:
        return f" {'<' if exclusive_maximum else '<='} {maximum}"
    return ""


def _int_words(minimum, maximum):
    if maximum is None and minimum == 1:
        return "a positive integer"
    if maximum is None and minimum == 0:
        return "a non-negative integer"
    return "an integer" + _bounds(minimum, maximum)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _same(value, choice):
    if isinstance(value, (bool, np.bool_)) != isinstance(choice, (bool, np.bool_)):
        return False
    try:
        return bool(value == choice)
    except (TypeError, ValueError):  # arrays and other values without one truth value
        return False


def check_int(name, value, *, minimum=None, maximum=None, allow_none=False):
    """Checks that `value` is an integer within bounds and returns it as an `int`.

    Python and NumPy integers are accepted; bools, floats (even `4.0`) and
    strings are refused.

    Args:
        name: argument name used in the message.
        value: the value to check.
        minimum: smallest accepted value, or `None` for no lower bound.
        maximum: largest accepted value, or `None` for no upper bound.
        allow_none: if `True`, `None` is accepted and returned.

    Returns:
        `value` as a Python `int` (or `None`).

    Raises:
        ValueError: `value` is not an accepted integer.

    Example:

    ```python
    import numpy as np
    from keras_robust.validation import check_int

    assert check_int("filters", np.int64(4), minimum=1) == 4
    ```
    """
    if value is None and allow_none:
        return None
    in_range = _is_int(value) and (minimum is None or value >= minimum) and (
        maximum is None or value <= maximum
    )
    if not in_range:
        _fail(name, _int_words(minimum, maximum) + (" or None" if allow_none else ""), value)
    return int(value)


def check_int_tuple(name, value, length, *, minimum=None, maximum=None):
    """Checks an integer or a sequence of `length` integers, returns a tuple of `int`.

    A single integer is repeated `length` times, as Keras does for
    `kernel_size` or `strides`.

    Args:
        name: argument name used in the message.
        value: an integer or a sequence of integers.
        length: number of integers expected.
        minimum: smallest accepted integer, or `None` for no lower bound.
        maximum: largest accepted integer, or `None` for no upper bound.

    Returns:
        A tuple of `length` Python ints.

    Raises:
        ValueError: naming the whole received value.

    Example:

    ```python
    from keras_robust.validation import check_int_tuple

    assert check_int_tuple("kernel_size", 3, 2, minimum=1) == (3, 3)
    ```
    """
    values = (value,) * length if _is_int(value) else value
    try:
        values = tuple(check_int(name, v, minimum=minimum, maximum=maximum) for v in values)
    except (TypeError, ValueError):
        values = ()
    if len(values) != length:
        words = _int_words(minimum, maximum)
        plural = words.replace("a positive integer", "positive integers").replace(
            "a non-negative integer", "non-negative integers").replace("an integer", "integers")
        _fail(name, f"{words} or a tuple of {length} {plural}", value)
    return values


def check_number(
    name, value, *, minimum=None, maximum=None, exclusive_minimum=False, exclusive_maximum=False, allow_none=False
):
    """Checks that `value` is a finite real number within bounds, returns a `float`.

    Python and NumPy integers and floats are accepted; bools, NaN and
    infinities are refused.

    Args:
        name: argument name used in the message.
        value: the value to check.
        minimum: smallest accepted value, or `None` for no lower bound.
        maximum: largest accepted value, or `None` for no upper bound.
        exclusive_minimum: if `True`, `minimum` itself is refused.
        exclusive_maximum: if `True`, `maximum` itself is refused.
        allow_none: if `True`, `None` is accepted and returned.

    Returns:
        `value` as a Python `float` (or `None`).

    Raises:
        ValueError: `value` is not an accepted number.

    Example:

    ```python
    from keras_robust.validation import check_number

    assert check_number("alpha", 1, minimum=0) == 1.0
    ```
    """
    if value is None and allow_none:
        return None
    ok = (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_))
        and math.isfinite(value)
    )
    if ok and minimum is not None:
        ok = value > minimum if exclusive_minimum else value >= minimum
    if ok and maximum is not None:
        ok = value < maximum if exclusive_maximum else value <= maximum
    if not ok:
        accepted = "a finite number" + _bounds(minimum, maximum, exclusive_minimum, exclusive_maximum)
        _fail(name, accepted + (" or None" if allow_none else ""), value)
    return float(value)


def check_bool(name, value, *, allow_none=False):
    """Checks that `value` is `True` or `False` (NumPy bools too), returns a `bool`.

    Truthy values such as `"no"`, `1` or `[]` are refused.

    Args:
        name: argument name used in the message.
        value: the value to check.
        allow_none: if `True`, `None` is accepted and returned.

    Returns:
        `value` as a Python `bool` (or `None`).

    Raises:
        ValueError: `value` is not a bool.

    Example:

    ```python
    from keras_robust.validation import check_bool

    assert check_bool("use_bias", True) is True
    ```
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        _fail(name, "True, False or None" if allow_none else "True or False", value)
    return bool(value)


def check_choice(name, value, choices):
    """Checks that `value` is one of `choices` and returns it.

    Unhashable values (lists, dicts) are refused with the same message.

    Args:
        name: argument name used in the message.
        value: the value to check.
        choices: the accepted values.

    Returns:
        `value`.

    Raises:
        ValueError: `value` is not among `choices`.

    Example:

    ```python
    from keras_robust.validation import check_choice

    assert check_choice("padding", "same", ("same", "valid")) == "same"
    ```
    """
    choices = tuple(choices)
    if not any(_same(value, choice) for choice in choices):
        _fail(name, f"one of {', '.join(map(repr, choices))}", value)
    return value


def check_labels(labels, classes, *, name="labels", training=False):
    """Checks class labels: whole numbers in `[0, classes)`, returns them as an int64 array.

    Fractional labels are refused rather than truncated; with `training=True`
    labels of a single class are refused too (a classifier needs two).

    Args:
        labels: array-like (N,) of class indices (integer or whole floats).
        classes: number of classes of the model, or `None` to check only
            that labels are non-negative whole numbers.
        name: what the message calls the labels (an argument or a file).
        training: refuse a dataset whose labels are all one class.

    Returns:
        `labels` as a 1-D int64 NumPy array.

    Raises:
        ValueError: naming the offending values and the accepted range.

    Example:

    ```python
    from keras_robust.validation import check_labels

    assert check_labels([0, 9, 3.0], 10).tolist() == [0, 9, 3]
    ```
    """
    if classes is not None:
        classes = check_int("classes", classes, minimum=1)
    array = np.asarray(labels)
    accepted = "integers" + (f" in [0, {classes - 1}] (the model's {classes} classes)" if classes else " >= 0")
    if array.dtype.kind not in "uif" or array.ndim > 1 and array.size != len(array):
        raise ValueError(f"`{name}` must be {accepted}. Received: dtype={array.dtype}, shape={array.shape}")
    array = array.reshape(-1)
    if array.dtype.kind == "f":
        bad = array[~np.isfinite(array) | (array != np.round(array))]
        if bad.size:
            raise ValueError(f"`{name}` must be {accepted}, not fractions (they would be truncated). Received: "
                             f"{bad.size} such labels, e.g. {_shown(bad[:5].tolist())}")
    array = array.astype("int64")
    wrong = (array < 0) | (array >= classes if classes else False)
    if wrong.any():
        raise ValueError(f"`{name}` must be {accepted}. Received: {int(wrong.sum())} labels outside, range "
                         f"[{array.min()}, {array.max()}], e.g. {_shown(array[wrong][:5].tolist())}")
    if training and array.size and np.unique(array).size < 2:
        raise ValueError(f"`{name}` must hold at least two classes to train a classifier. Received: only class "
                         f"{array[0]} in {array.size} labels")
    return array


def check_pixels(images, *, name="images"):
    """Checks raw pixel values: a non-empty numeric array, finite, in [0, 255]; returns it as an array.

    NaN and infinite pixels are refused (a model would turn them into NaN
    probabilities, a cast to uint8 into 0), as are values outside [0, 255]
    (models take raw pixels and normalize inside).

    Args:
        images: array-like of pixels, e.g. (N, H, W, C).
        name: what the message calls the images (an argument or a file).

    Returns:
        `images` as a NumPy array, unchanged.

    Raises:
        ValueError: naming what was received.

    Example:

    ```python
    import numpy as np
    from keras_robust.validation import check_pixels

    assert check_pixels(np.zeros((1, 8, 8, 3), "uint8")).shape == (1, 8, 8, 3)
    ```
    """
    array = np.asarray(images)
    if array.dtype.kind not in "uif" or array.dtype.kind == "b":
        raise ValueError(f"`{name}` must be numeric pixel values in [0, 255]. Received: dtype={array.dtype}")
    if array.size == 0:
        raise ValueError(f"`{name}` must hold at least one image. Received: shape={array.shape} (empty)")
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            bad = array[~finite]
            raise ValueError(f"`{name}` must be finite pixel values in [0, 255]. Received: {bad.size} non-finite "
                             f"values ({int(np.isnan(bad).sum())} NaN, {int(np.isinf(bad).sum())} inf)")
    if array.dtype != np.uint8 and array.size and (array.min() < 0 or array.max() > 255):
        raise ValueError(f"`{name}` must be pixel values in [0, 255]. Received: range "
                         f"[{array.min()}, {array.max()}]")
    return array


def check_dataset(images, labels, classes, *, training=False, name="dataset"):
    """Checks labelled images before evaluation or training: `check_pixels`, then `check_labels`.

    Args:
        images: raw pixels (N, H, W[, C]).
        labels: class indices (N,).
        classes: the model's number of classes (labels must be below it).
        training: also refuse labels of a single class.
        name: what the messages call the data (e.g. a file name).

    Returns:
        `(images, labels)` as arrays, labels int64.

    Raises:
        ValueError: naming what was received.

    Example:

    ```python
    import numpy as np
    from keras_robust.validation import check_dataset

    images, labels = check_dataset(np.zeros((2, 8, 8, 3), "uint8"), [0, 1], classes=10)
    ```
    """
    images = check_pixels(images, name=f"images of {name}" if name != "dataset" else "images")
    labels = check_labels(labels, classes, name=f"labels of {name}" if name != "dataset" else "labels",
                          training=training)
    if len(labels) != len(images):
        raise ValueError(f"`images` and `labels` must be as many. Received: {len(images)} images, "
                         f"{len(labels)} labels")
    return images, labels


def check_images(images, input_shape, *, name="images"):
    """Checks a batch for a model taking `input_shape`: `check_pixels`, rank 4, matching sizes and channels.

    Args:
        images: raw pixels (N, H, W, C), N >= 1.
        input_shape: `(height, width, channels)` of the model (`None` for any size).
        name: what the message calls the images.

    Returns:
        `images` as a NumPy array.

    Raises:
        ValueError: naming the received shape and the accepted one.

    Example:

    ```python
    import numpy as np
    from keras_robust.validation import check_images

    check_images(np.zeros((2, 32, 32, 3), "uint8"), (32, 32, 3))
    ```
    """
    array = check_pixels(images, name=name)
    expected = tuple(None if s is None else int(s) for s in input_shape)
    fits = array.ndim == len(expected) + 1 and all(e is None or e == s for e, s in zip(expected, array.shape[1:]))
    if not fits:
        shown = "(N, " + ", ".join("any" if e is None else str(e) for e in expected) + ")"
        raise ValueError(f"`{name}` must be a batch of shape {shown} for this model (height, width, channels). "
                         f"Received: shape={array.shape}")
    return array
