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


def _bounds(minimum, maximum, exclusive_minimum=False):
    low = ">" if exclusive_minimum else ">="
    if minimum is not None and maximum is not None:
        return f" in {'(' if exclusive_minimum else '['}{minimum}, {maximum}]"
    if minimum is not None:
        return f" {low} {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
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
    name, value, *, minimum=None, maximum=None, exclusive_minimum=False, allow_none=False
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
        ok = value <= maximum
    if not ok:
        accepted = "a finite number" + _bounds(minimum, maximum, exclusive_minimum)
        _fail(name, accepted + (" or None" if allow_none else ""), value)
    return float(value)


def check_bool(name, value):
    """Checks that `value` is `True` or `False` (NumPy bools too), returns a `bool`.

    Truthy values such as `"no"`, `1` or `[]` are refused.

    Args:
        name: argument name used in the message.
        value: the value to check.

    Returns:
        `value` as a Python `bool`.

    Raises:
        ValueError: `value` is not a bool.

    Example:

    ```python
    from keras_robust.validation import check_bool

    assert check_bool("use_bias", True) is True
    ```
    """
    if not isinstance(value, (bool, np.bool_)):
        _fail(name, "True or False", value)
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
