"""Every `robust-cli` line of the README, the docs and the commands' `--help`, run exactly as it is written.

Each page's lines run in the order the page gives them, in a folder of their own that holds what the page tells
its reader to have (an image `photo.png`, a folder `pictures/`, ...), with `~` a fresh home folder: what a user
without the developers' data and without network meets. `OUTCOMES` says, for every line, what it must do there.
A new documented line fails the test until it is added to `OUTCOMES`, so a documented command cannot break (or
be documented wrong) without the suite seeing it.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from keras_robust.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```", re.S | re.M)
PREFIX = r"(?:[A-Z_]+=(?:'[^']*'|\S+)\s+)*robust-cli"  # robust-cli, after any NAME=value of its environment
INLINE = re.compile(f"`({PREFIX} [^`]*)`")
ASSIGNMENT = re.compile(r"^([A-Z_]+)=(\S+)$")

RUNS = "exits 0"
USAGE = "a usage error (exit 2): the line names a command in prose or with placeholders"

class Refused(str):
    """A one-line refusal (exit 1) whose message matches the pattern this string holds."""


OFFLINE = Refused(r"--data-dir|--download")  # data the machine does not have, and how to supply it
NOT_HERE = "not run here: needs machines this test does not have"
DEVELOPERS = "cifar10-jpeg"  # lines on the developers' JPEG copy of CIFAR-10 (../shared/data), run where it exists


def starts(pattern):
    """A long run: passes once its output shows `pattern` (its first progress) with no traceback; stopped there."""
    return re.compile(pattern)


# Only the README's first line, the main job, runs to its end; the other long lines run until their first
# progress, which is past every check, the data and the model, and the first step of the work.
EVALUATING = starts(r": [1-9]\d*/\d+ ")  # the benchmark's first progress line after a finished step
TRAINING = starts(r"\d+/\d+ .*accuracy")  # Keras' line at the end of the first epoch

OUTCOMES = {
    "robust-cli benchmark": RUNS,
    "robust-cli benchmark -o robust-benchmark": EVALUATING,  # the README's first line, with its -o said
    "robust-cli benchmark --dataset mnist": EVALUATING,  # past the LeNets' training
    "robust-cli benchmark --dataset cifar10 --weights cifar10": OFFLINE,
    "robust-cli benchmark --dataset cifar10-jpeg/test.tar.gz --weights cifar10 --limit 1000": EVALUATING,
    "robust-cli benchmark --dataset cifar10_corrupted": OFFLINE,
    "robust-cli benchmark --dataset cifar10_corrupted --download": OFFLINE,
    "robust-cli benchmark --dataset cifar10_corrupted --data-dir ~/tensorflow_datasets --model ResNet56PP": OFFLINE,
    "robust-cli predict --model ResNet20PP photo.png": RUNS,
    "robust-cli --version": RUNS,
    "KERAS_BACKEND=torch robust-cli benchmark --limit 100": EVALUATING,
    "robust-cli --help": RUNS,
    "robust-cli --verbose COMMAND": USAGE,
    "robust-cli rank --model ResNet20 --dataset cifar10 --download --split train --distortion gaussian_blur "
    "--limit 500 --layers conv1,layer1_0_add,layer2_0_add -o ranking.json": OFFLINE,
    "robust-cli deepcorrect --model ResNet20 --ranking ranking.json --dataset cifar10 --split train "
    "--distortion gaussian_blur --beta 0.75 --unit bottleneck --epochs 10 -o resnet20_deepcorr_b.keras":
        Refused("No saved FilterRanking at ranking.json"),  # the ranking the line above could not make offline
    "robust-cli export --model ResNet20PP --output resnet20pp_served": RUNS,
    "robust-cli export --model ResNet20PP -o DIR": RUNS,
    "robust-cli predict --model resnet20pp_served --trust-saved-model pictures/": RUNS,
    "robust-cli corrupt --dataset cifar10 --output cifar10-c/ --limit 1000": OFFLINE,
    "robust-cli corrupt --dataset my-images.npz --corruptions noise,fog --levels 3,5 --output my-images-c.npz": RUNS,
    "robust-cli train --model ResNet20PP --dataset cifar10 --data-dir ~/tensorflow_datasets --seed 0": OFFLINE,
    "robust-cli train --model ResNet20 --dataset cifar10-jpeg/ --limit 10000 --epochs 15 --output runs/r20":
        TRAINING,
    "robust-cli benchmark --dataset cifar10-jpeg/test.tar.gz --model runs/cifar10_jpeg/ResNet20_resnet-cosine_e30_s0/"
    "last.keras --model runs/cifar10_jpeg/ResNet20PP_resnet-cosine_e30_s0/last.keras --model ResNet20 --model "
    "ResNet20PP --baseline ResNet20_resnet-cosine_e30_s0/last --limit 5000 -o runs/cifar10_jpeg/benchmark_s0": EVALUATING,
    "robust-cli train --model LeNetA --dataset digits/ --validation digits_test/ --learning-rate 0.01": TRAINING,
    "robust-cli train --model LeNetA --dataset mnist --epochs 1": RUNS,
    "TF_CONFIG='{\"cluster\": {\"worker\": [\"host1:12345\", \"host2:12345\"]}, \"task\": {\"type\": \"worker\", "
    "\"index\": 0}}' robust-cli train --model ResNet20 --dataset cifar10 --distribute multiworker --seed 0 "
    "--output /shared/runs/r20": NOT_HERE,
    "TF_CONFIG='{\"cluster\": {\"worker\": [\"host1:12345\", \"host2:12345\"]}, \"task\": {\"type\": \"worker\", "
    "\"index\": 0}}' robust-cli benchmark --dataset imagenet2012_corrupted --data-dir /shared/tensorflow_datasets "
    "--model /shared/resnet50.keras --distribute multiworker -o /shared/runs/imagenet-c": NOT_HERE,
    "TF_CONFIG='{\"cluster\": {\"worker\": [\"host1:12345\", \"host2:12345\"]}, \"task\": {\"type\": \"worker\", "
    "\"index\": 0}}' robust-cli rank --model ResNet20 --dataset cifar10 --split train --distortion gaussian_blur "
    "--limit 5000 --distribute multiworker -o /shared/runs/ranking.json": NOT_HERE,
    "robust-cli transfer --dataset caltech101 --data-dir ~/tensorflow_datasets --model ResNet20 --model ResNet20PP "
    "--weights cifar10 --distortion gaussian_blur --distortion awgn": OFFLINE,
    "robust-cli transfer --dataset caltech101": OFFLINE,
    "robust-cli transfer --dataset mnist --limit 400 --n-train 5 --n-val 2 --splits 1": RUNS,
    "robust-cli rank --model ResNet20 --dataset cifar10-jpeg/train.tar.gz --split train --distortion awgn "
    "--levels 10,20,40,60,80,100 --layers $LAYERS --limit 200 -o rank_awgn.json": RUNS,
    "robust-cli deepcorrect --model ResNet20 --ranking rank_awgn.json --dataset cifar10-jpeg/train.tar.gz "
    "--split train --distortion awgn --levels 10,20,40,60,80,100 --beta 0.75 --unit full --limit 4000 --epochs 3 "
    "-o resnet20_deepcorr_awgn.keras": starts(r"\d+/\d+ .*loss"),
    "robust-cli deepcorrect --start": USAGE,
    "robust-cli export --model MODEL --output PATH": USAGE,
    "robust-cli predict --model NAME|PATH IMAGES...": USAGE,
    "robust-cli train --recipe resnet-cosine": USAGE,
    **{f"robust-cli {name}": USAGE for name in ("train", "corrupt", "rank", "deepcorrect", "transfer", "export",
                                                 "predict")},
}


def documented_command_lines():
    """(where, line, variables) of every `robust-cli` line in the README's and the docs' code blocks and inline
    code, and in `--help` texts, in page order; `variables` are the `NAME=value` lines above it in its block."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for path in pages:
        text = path.read_text()
        blocks = FENCE.findall(text)
        inline = [" ".join(code.split()) for code in INLINE.findall(FENCE.sub("", text))]
        yield from _lines(str(path.relative_to(ROOT)), [*blocks, "\n".join(inline)])
    for name, command in cli.commands.items():
        yield from _lines(f"robust-cli {name} --help", ["\n".join(INLINE.findall(command.help or ""))])


def _lines(where, blocks):
    for block in blocks:
        variables = {}
        for line in block.replace("\\\n", " ").splitlines():
            line = " ".join(line.strip().removeprefix("$ ").split("  #")[0].split())
            if ASSIGNMENT.match(line):
                variables.update([ASSIGNMENT.match(line).groups()])
            elif re.match(PREFIX, line):
                yield where, line, dict(variables)


def test_every_documented_command_line_names_existing_commands_and_options():
    lines = list(documented_command_lines())
    assert len(lines) >= 15
    group_options = {o for param in cli.params for o in param.opts} | {"--help"}
    for where, line, _ in lines:
        words = shlex.split(line)
        rest = words[words.index("robust-cli") + 1:]
        while rest and rest[0].startswith("-"):
            assert rest.pop(0) in group_options, (where, line)
        if not rest or rest[0].isupper():  # `robust-cli --verbose COMMAND`: a placeholder
            continue
        assert rest[0] in cli.commands, (where, line)
        command = cli.commands[rest[0]]
        known = {o for param in command.params for o in (*param.opts, *param.secondary_opts)} | {"--help"}
        for token in rest[1:]:
            if token.startswith("-") and not token[1:2].isdigit():
                assert token.split("=")[0] in known, (where, line, token)


def test_every_documented_command_line_has_an_outcome():
    documented = {line for _, line, _ in documented_command_lines()}
    assert documented - OUTCOMES.keys() == set(), "documented lines without an outcome: add them to OUTCOMES"
    assert OUTCOMES.keys() - documented == set(), "outcomes of lines the docs no longer have: remove them"


def _pages():
    """Each distinct line under the first page that has it (a page's later mentions, and other pages', are the
    same command), pages in their order."""
    pages, seen = {}, set()
    for where, line, variables in documented_command_lines():
        if line not in seen:
            seen.add(line)
            pages.setdefault(where, []).append((line, variables))
    return pages


def _user_files(folder, shared_data):
    """What the pages tell their reader to have, made from the data the package ships."""
    from PIL import Image

    from keras_robust.datasets import load_images

    def write_image_file(path, pixels):
        Image.fromarray(pixels.squeeze()).save(path)

    sample = load_images("cifar10_sample", "test", limit=8)
    write_image_file(folder / "photo.png", sample.images[0])
    for index in range(4):
        name = sample.class_names[sample.labels[index]]
        (folder / "pictures" / name).mkdir(parents=True, exist_ok=True)
        write_image_file(folder / "pictures" / name / f"{index:04d}.jpg", sample.images[index])
    np.savez(folder / "my-images.npz", images=sample.images, labels=sample.labels)
    digits = load_images("mnist", "test")
    for digit in range(10):  # every class in both folders: 4 training and 2 validation digits each
        for count, index in enumerate(np.flatnonzero(digits.labels == digit)[:6]):
            split = "digits" if count < 4 else "digits_test"
            (folder / split / str(digit)).mkdir(parents=True, exist_ok=True)
            write_image_file(folder / split / str(digit) / f"{index:04d}.png", digits.images[index])
    (folder / "home").mkdir()
    if shared_data is not None:
        (folder / DEVELOPERS).symlink_to(shared_data / "cifar10-jpeg", target_is_directory=True)
        for trained in (ROOT / "runs" / "cifar10_jpeg").glob("*/last.keras"):  # what the training page's runs made
            (folder / trained.parent.relative_to(ROOT)).mkdir(parents=True)
            shutil.copy(trained, folder / trained.relative_to(ROOT))


def _run_in_process(argv):
    outcome = CliRunner().invoke(cli, argv)
    if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
        raise outcome.exception  # a bug: its traceback
    return outcome.exit_code, outcome.output


def _run_in_shell(line, folder, variables, until=None, timeout=600):
    """Run `line` in a shell, as a user would: (exit status, output); with `until` (a pattern), only until its
    output matches (or shows a traceback), then stop it (status None)."""
    environment = {**os.environ, **variables, "HOME": str(folder / "home"),
                   "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen(["bash", "-c", line], cwd=folder, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1, start_new_session=True)
    seen = []
    try:
        for text in process.stdout:
            seen.append(text)
            if until is not None and (until.search(text) or "Traceback" in text):
                break
        else:
            return process.wait(timeout), "".join(seen)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait(timeout)
    return None, "".join(seen)


@pytest.mark.parametrize("page", sorted(_pages()))
def test_documented_command_lines_run_as_written(page, tmp_path, monkeypatch, request, optional_shared_data):
    shared_data = optional_shared_data
    _user_files(tmp_path, shared_data)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    skipped = []
    for line, variables in _pages()[page]:
        expected = OUTCOMES[line]
        if expected == NOT_HERE or (DEVELOPERS in line and shared_data is None):
            skipped.append(line)
            continue
        if isinstance(expected, re.Pattern):
            _, output = _run_in_shell(line, tmp_path, variables, until=expected)
            assert "Traceback" not in output and expected.search(output), (line, output[-3000:])
            continue
        if not line.startswith("robust-cli"):  # `NAME=value robust-cli ...`: a fresh process with that environment
            code, output = _run_in_shell(line, tmp_path, variables)
        else:
            for name, value in variables.items():
                monkeypatch.setenv(name, value)
            argv = [os.path.expanduser(os.path.expandvars(word)) for word in shlex.split(line)[1:]]
            code, output = _run_in_process(argv)
        last = output.strip().splitlines()[-1] if output.strip() else ""
        if expected == RUNS:
            assert code == 0, (line, output[-3000:])
        elif isinstance(expected, Refused):
            assert code == 1 and last.startswith("Error: ") and re.search(expected, last), (line, output)
        else:
            assert code == 2 and last.startswith("Error: "), (line, output)
    if skipped:
        request.node.user_properties.append(("not run here", skipped))
