"""One progress mechanism: `verbose` checked once, the package's bars and lines, Keras's `fit` verbosity."""

import io

import pytest

from keras_robust.progress import check_verbose, keras_verbose, progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("verbose, quiet, expected", [
    (True, None, True), (False, None, False), (0, None, 0), (1, None, 1), (2, None, 2), ("auto", None, "auto"),
    (True, True, False), (2, True, False), (True, False, True),
])
def test_verbose_is_keras_verbosity_or_a_bool_and_quiet_silences_it(verbose, quiet, expected):
    assert check_verbose(verbose, quiet) is expected or check_verbose(verbose, quiet) == expected


@pytest.mark.parametrize("kwargs, message", [
    ({"verbose": 3}, "Received: verbose=3"), ({"verbose": "yes"}, "Received: verbose='yes'"),
    ({"verbose": None}, "Received: verbose=None"), ({"quiet": 1}, "Received: quiet=1"),
])
def test_bad_verbosity_names_what_was_received(kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_verbose(**kwargs)


def test_keras_fit_shows_a_bar_on_a_terminal_and_lines_in_a_log():
    assert keras_verbose(True, file=Terminal()) == 1 and keras_verbose(True, file=io.StringIO()) == 2
    assert keras_verbose(False) == keras_verbose(0) == keras_verbose(True, quiet=True) == 0
    assert keras_verbose(1) == 1 and keras_verbose(2) == 2 and keras_verbose("auto") == "auto"


def test_verbose_2_writes_lines_even_on_a_terminal_and_1_a_bar_even_in_a_log():
    screen, log = Terminal(), io.StringIO()
    assert sum(progress(range(3), label="Lines", verbose=2, file=screen)) == 3
    assert screen.getvalue().splitlines()[0] == "Lines: 0/3"
    assert sum(progress(range(3), label="Bar", verbose=1, file=log)) == 3
    assert log.getvalue().startswith("Bar") and "Bar: 0/3" not in log.getvalue()  # click's bar, off a terminal
    silent = io.StringIO()
    assert sum(progress(range(3), label="None", verbose=False, file=silent)) == 3 and silent.getvalue() == ""
