"""The command line as a whole: shared options, user errors against bugs, progress, lazy entry points."""

import io
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from keras_robust.cli import options
from keras_robust.cli.main import COMMANDS, cli
from keras_robust.progress import progress

SHARED = {"--model", "--weights", "--dataset", "--split", "--limit", "--levels", "--output", "--overwrite", "--seed",
          "--quiet"}
# Options each command must have, named as everywhere else.
EXPECTED = {
    "benchmark": SHARED,
    "corrupt": SHARED - {"--model", "--weights"},
    "rank": SHARED,
    "deepcorrect": SHARED,
    "transfer": SHARED - {"--split", "--limit"},
    "train": {"--model", "--dataset", "--split", "--limit", "--output", "--seed", "--quiet"},
    "export": {"--model", "--weights", "--output", "--overwrite"},
    "predict": {"--model", "--quiet"},
}
RETIRED = {"--data", "--images", "--severities"}


def test_every_command_uses_the_shared_words():
    assert set(EXPECTED) == set(COMMANDS)
    for name in COMMANDS:
        command = cli.commands[name]
        words = {opt for param in command.params for opt in param.opts}
        assert EXPECTED[name] <= words, (name, EXPECTED[name] - words)
        assert not words & RETIRED, (name, words & RETIRED)
        assert not [p for p in command.params if isinstance(p, click.Argument) and p.name == "model"], name


def test_levels_are_parsed_once_as_numbers():
    assert options.parse_levels("1,2,5") == (1, 2, 5)
    assert options.parse_levels("0.5, 3") == (0.5, 3)
    assert options.parse_levels("") is None
    with pytest.raises(click.BadParameter, match="Received: '1,x'"):
        options.parse_levels("1,x")
    result = CliRunner().invoke(cli, ["corrupt", "--dataset", "x.npz", "--levels", "1,x", "-o", "y.npz"])
    assert result.exit_code == 2 and "comma-separated numbers" in result.output


def invoke_failing(error):
    """Run a command that raises `error` through the group's error handling."""
    @click.command()
    def fails():
        raise error

    cli.add_command(fails, "fails")
    try:
        return CliRunner().invoke(cli, ["fails"])
    finally:
        del cli.commands["fails"]


@pytest.mark.parametrize("error", [ValueError("bad value. Received: x=1"), FileNotFoundError("no such file: a.npz"),
                                   PermissionError(13, "Permission denied"), OSError(28, "No space left on device")])
def test_user_errors_are_one_line(error):
    result = invoke_failing(error)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {error}"


def test_running_out_of_memory_is_one_line_that_says_what_to_do():
    result = invoke_failing(MemoryError("Unable to allocate 29.1 TiB for an array with shape (10, 10)"))
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "not enough memory" in result.output and "29.1 TiB" in result.output and "--limit" in result.output


@pytest.mark.parametrize("error", [KeyError("layer"), AttributeError("no attribute"), TypeError("bad call")])
def test_bugs_keep_their_traceback(error):
    result = invoke_failing(error)
    assert result.exception is error  # not turned into a one-line message


def test_transfer_runs_as_written_with_its_default_model(tmp_path):
    result = CliRunner().invoke(cli, ["transfer", "--dataset", "caltech101", "--data-dir", str(tmp_path / "tfds")])
    assert result.exit_code == 1
    assert "is not prepared" in result.output and "--download" in result.output and "--data-dir" in result.output
    assert "Missing option" not in result.output and "Traceback" not in result.output
    assert cli.commands["transfer"].params[[p.name for p in cli.commands["transfer"].params].index("models")].default \
        == ("ResNet20PP",)


def test_progress_lines_off_a_terminal_bar_on_one_nothing_when_quiet():
    log = io.StringIO()
    assert list(progress(range(3), label="Working", file=log, describe=lambda i: f"step {i}")) == [0, 1, 2]
    lines = log.getvalue().splitlines()
    assert lines[0] == "Working: 0/3" and lines[-1].startswith("Working: 3/3 (step 2) in ")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    assert sum(progress(range(4), label="Drawing", file=screen)) == 6
    assert "Drawing" in screen.getvalue() and "4/4" in screen.getvalue()
    silent = io.StringIO()
    assert sum(progress(range(4), label="Hidden", file=silent, quiet=True)) == 6
    assert silent.getvalue() == ""


def test_import_is_lazy_and_exposes_the_entry_points():
    code = ("import sys, keras_robust; assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules; "
            "from keras_robust.cli.main import cli; assert 'keras' not in sys.modules; "
            "print(keras_robust.benchmark.__module__, keras_robust.corrupt.__name__, keras_robust.PushPull2D.__name__, "
            "keras_robust.resolve_model.__name__, keras_robust.CorrectionUnit.__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["keras_robust.benchmarking.runner", "corrupt", "PushPull2D", "resolve_model",
                                   "CorrectionUnit"]
    import keras_robust

    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        keras_robust.nothing


NO_BACKEND_SCRIPT = """
import sys
from keras_robust.cli.main import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
except Exception as error:
    print(type(error).__name__, error)
print("tensorflow imported:", "tensorflow" in sys.modules, "keras imported:", "keras" in sys.modules)
"""


@pytest.mark.parametrize("args,says", [
    (["predict", "--model", "ResNet21", "{image}"], "Did you mean ResNet20?"),
    (["train", "--model", "resnt20pp", "--dataset", "mnist"], "Did you mean ResNet20PP?"),
    (["benchmark", "--model", "Lenet-A"], "Did you mean LeNetA?"),
    (["predict", "--model", "ResNet20PP", "missing.png"], "does not exist"),
    (["export", "--model", "missing.keras", "-o", "out"], "no such file: missing.keras"),
    (["train", "--model", "ResNet20", "--dataset", "mnist", "--epochs", "0"], "0 is not in the range"),
    (["transfer", "--dataset", "mnist", "--limit", "0"], "0 is not in the range"),
])
def test_mistakes_that_need_no_model_are_refused_before_the_backend_loads(tmp_path, args, says):
    from PIL import Image

    Image.new("RGB", (32, 32)).save(tmp_path / "x.png")
    args = [arg.replace("{image}", str(tmp_path / "x.png")) for arg in args]
    run = subprocess.run([sys.executable, "-c", NO_BACKEND_SCRIPT, *args], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert says in run.stdout, run.stdout + run.stderr
    assert "tensorflow imported: False keras imported: False" in run.stdout


def test_a_required_option_left_out_is_named():
    for args, missing in ((["train", "--model", "ResNet20"], "--dataset"), (["export", "-o", "out"], "--model"),
                          (["corrupt", "-o", "out"], "--dataset")):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2 and f"Missing option '{missing}'" in result.output, result.output


def test_a_cpu_run_prints_no_backend_noise_unless_verbose(tmp_path):
    from PIL import Image

    Image.new("RGB", (32, 32), (200, 30, 30)).save(tmp_path / "x.png")
    command = [str(Path(sys.executable).parent / "robust-cli")]
    quiet = subprocess.run([*command, "predict", "--model", "ResNet20PP", "x.png"], capture_output=True, text=True,
                           cwd=tmp_path, timeout=300)
    assert quiet.returncode == 0 and quiet.stdout.startswith("x.png: "), quiet.stdout + quiet.stderr
    assert quiet.stderr == ""
    verbose = subprocess.run([*command, "--verbose", "predict", "--model", "ResNet20PP", "x.png"],
                             capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert verbose.stdout == quiet.stdout and verbose.stderr != ""  # what the filter keeps off the terminal
