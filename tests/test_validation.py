"""keras_robust.validation: one message style, numpy ints accepted, bools/NaN refused."""

import math

import numpy as np
import pytest

from keras_robust.validation import check_bool, check_choice, check_int, check_number


@pytest.mark.parametrize("value", [4, np.int64(4), np.int32(4), np.uint8(4)])
def test_check_int_accepts_python_and_numpy_ints(value):
    result = check_int("filters", value, minimum=1)
    assert result == 4 and type(result) is int


@pytest.mark.parametrize("value", [True, np.bool_(True), 4.0, "4", None, 0, -3])
def test_check_int_refuses_with_the_received_value(value):
    with pytest.raises(ValueError, match=r"`filters` must be a positive integer\. Received: filters="):
        check_int("filters", value, minimum=1)


def test_check_int_bounds_and_none():
    assert check_int("rank", None, minimum=1, allow_none=True) is None
    with pytest.raises(ValueError, match=r"in \[1, 31\]\. Received: k=32"):
        check_int("k", 32, minimum=1, maximum=31)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, "1", None, 1e9, 1.0])
def test_check_number_refuses_non_finite_bools_and_out_of_bounds(value):
    with pytest.raises(ValueError, match=r"`scale` must be a finite number in \(1, 8\]\. Received: scale="):
        check_number("scale", value, minimum=1, maximum=8, exclusive_minimum=True)


def test_check_number_returns_float():
    assert check_number("alpha", np.float32(0.5), minimum=0) == 0.5
    assert type(check_number("alpha", 2, minimum=0)) is float


def test_check_bool_refuses_truthy_values():
    assert check_bool("use_bias", np.bool_(False)) is False
    for value in ("no", 1, 0, None):
        with pytest.raises(ValueError, match=r"`use_bias` must be True or False\. Received: use_bias="):
            check_bool("use_bias", value)


def test_exclusive_maximum_and_bools_that_may_be_none():
    assert check_number("dropout", 0.999, minimum=0, maximum=1, exclusive_maximum=True) == 0.999
    with pytest.raises(ValueError, match=r"`dropout` must be a finite number in \[0, 1\)\. Received: dropout=1$"):
        check_number("dropout", 1, minimum=0, maximum=1, exclusive_maximum=True)
    with pytest.raises(ValueError, match=r"`x` must be a finite number < 2\. Received: x=2$"):
        check_number("x", 2, maximum=2, exclusive_maximum=True)
    assert check_bool("quiet", None, allow_none=True) is None
    with pytest.raises(ValueError, match=r"`quiet` must be True, False or None\. Received: quiet=1$"):
        check_bool("quiet", 1, allow_none=True)


def test_check_choice_refuses_unhashable_and_bool_lookalikes():
    assert check_choice("padding", "same", ("same", "valid")) == "same"
    for value in (["same"], {"a": 1}, np.zeros(2), True):
        with pytest.raises(ValueError, match=r"`padding` must be one of 'same', 'valid'\. Received: padding="):
            check_choice("padding", value, ("same", "valid"))
    with pytest.raises(ValueError):
        check_choice("flag", True, (1, 2))


def test_long_received_values_are_cut():
    with pytest.raises(ValueError) as error:
        check_choice("name", "x" * 10_000, ("a",))
    assert len(str(error.value)) < 300
