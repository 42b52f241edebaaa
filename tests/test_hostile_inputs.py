"""Hostile and faulty inputs through the API and `robust-cli` (issue 15): refused with a one-line message naming what
was received, no traceback, and nothing outside the output touched. Every hostile file is built here, small."""

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from keras_robust.atomic import MARKER
from keras_robust.cli.main import cli


def snapshot(root, skip=()):
    """(relative path -> size, mtime, link target; "folder") of everything under `root`, except under `skip`."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            if any(path == Path(s) or Path(s) in path.parents for s in skip):
                continue
            info = path.lstat()
            if path.is_dir() and not path.is_symlink():  # entries are compared; a folder's own mtime is not
                state[str(path.relative_to(root))] = "folder"
                continue
            state[str(path.relative_to(root))] = (info.st_size, info.st_mtime_ns,
                                                  os.readlink(path) if path.is_symlink() else None)
    return state


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A working directory with a precious file, an image set and a foreign folder; returns `run(*args)`."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "precious.txt").write_text("user data")
    (work / "unrelated.keras").write_bytes(b"someone's model")
    rng = np.random.default_rng(0)
    np.savez(work / "images.npz", images=rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8), labels=[0, 1, 2, 3])
    (work / "other work").mkdir()
    (work / "other work" / "notes.txt").write_text("years of notes")
    monkeypatch.chdir(work)

    def run(*args, output=None, code=1, says=()):
        before = snapshot(tmp_path, skip=[output] if output else [])
        result = CliRunner().invoke(cli, [str(a) for a in args])
        after = snapshot(tmp_path, skip=[output] if output else [])
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output and not isinstance(result.exception, (KeyError, AttributeError))
        if code == 1:
            lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
            assert len(lines) == 1 and len(lines[0]) < 2000, result.output[:3000]
        for words in says:
            assert words in result.output, (words, result.output[:3000])
        assert before == after, "files outside the output changed"
        return result

    run.work = work
    return run


# --- security: SavedModels are programs ------------------------------------------------------------------------

@pytest.fixture
def evil_saved_model(tmp_path):
    """A SavedModel whose serving function writes a file when called."""
    import tensorflow as tf

    written = tmp_path / "pwned.txt"

    class Evil(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 32, 32, 3], tf.float32)])
        def serve(self, images):
            tf.io.write_file(str(written), "ran")
            logits = tf.reduce_mean(images, axis=[1, 2])
            return {"logits": logits, "probabilities": tf.nn.softmax(logits)}

    module = Evil()
    path = tmp_path / "evil_model"
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    module.serve(tf.zeros((1, 32, 32, 3)))  # the hazard is real: calling it writes the file
    assert written.read_text() == "ran"
    written.unlink()
    return path, written


def test_predict_refuses_a_saved_model_without_the_trust_flag(sandbox, evil_saved_model, tmp_path):
    path, written = evil_saved_model
    import tensorflow as tf

    tf.io.write_file(str(tmp_path / "x.png"), tf.io.encode_png(tf.zeros((32, 32, 3), tf.uint8)))
    sandbox("predict", "--model", path, tmp_path / "x.png",
            says=["SavedModel", "programs", "--trust-saved-model", f"Received: --model {path}"])
    assert not written.exists()


# --- .keras archives: zip bombs, huge and nested configs -------------------------------------------------------

def _keras_zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def _bomb(path):
    return _keras_zip(path, {"config.json": b" " * (64 * 2**20 + 1), "metadata.json": b"{}"})


def _many_entries(path):
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(10_001):
            archive.writestr(f"e{index}", b"")
    return path


def _huge_class_name(path):
    config = {"class_name": "X" * 1_000_000, "config": {}, "module": "evil"}
    return _keras_zip(path, {"config.json": json.dumps(config), "metadata.json": "{}", "model.weights.h5": b""})


def _deeply_nested(path):
    return _keras_zip(path, {"config.json": "[" * 200_000 + "]" * 200_000})


def _not_a_zip(path):
    path.write_bytes(b"\x89PNG not a model" * 100)
    return path


def _empty(path):
    path.write_bytes(b"")
    return path


KERAS_CASES = {
    "zip_bomb": (_bomb, "too large to be a model file"),
    "many_entries": (_many_entries, "Received: 10001 entries"),
    "huge_class_name": (_huge_class_name, "characters)"),
    "deeply_nested": (_deeply_nested, "truncated or corrupt"),
    "not_a_zip": (_not_a_zip, "not a readable .keras file"),
    "empty": (_empty, "not a readable .keras file"),
}


@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_hostile_keras_files_are_refused_by_load_model(case, tmp_path):
    from keras_robust.models import load_model

    make, words = KERAS_CASES[case]
    path = make(tmp_path / "bad.keras")
    with pytest.raises(ValueError, match="bad.keras") as caught:
        load_model(path)
    assert words in str(caught.value) and len(str(caught.value)) < 1500


@pytest.mark.parametrize("case", ["zip_bomb", "huge_class_name", "not_a_zip"])
@pytest.mark.parametrize("command", ["predict", "export", "rank"])
def test_hostile_keras_files_are_refused_by_commands(case, command, sandbox, tmp_path):
    make, words = KERAS_CASES[case]
    path = make(tmp_path / "bad.keras")
    args = {"predict": ["predict", "--model", path, "images.npz"],
            "export": ["export", "--model", path, "-o", "served"],
            "rank": ["rank", "--model", path, "--dataset", "images.npz", "--distortion", "awgn", "-o", "r.json"]}
    sandbox(*args[command], says=[words, "bad.keras"])
    assert not (sandbox.work / "served").exists() and not (sandbox.work / "r.json").exists()


# --- outputs: never lose a user's files -------------------------------------------------------------------------

CORRUPT = ["corrupt", "--dataset", "images.npz", "--corruptions", "gaussian_noise", "--levels", "1", "--quiet"]


@pytest.mark.parametrize("output,words", [
    ("images.npz", "would replace the input"),
    (".", "working directory"),
    ("..", "working directory"),
    ("other work", "did not write"),
    ("precious.txt/out", "it is a file"),
    ("x" * 300, "too long"),
])
def test_corrupt_overwrite_never_removes_what_it_did_not_write(sandbox, output, words):
    sandbox(*CORRUPT, "--output", output, "--overwrite", says=[words, "Received" if words != "did not write" else ""])
    assert (sandbox.work / "other work" / "notes.txt").read_text() == "years of notes"


@pytest.mark.parametrize("command", [
    ["benchmark", "--limit", "2"],
    ["export", "--model", "ResNet20"],
    ["rank", "--model", "ResNet20", "--dataset", "images.npz", "--distortion", "awgn"],
    CORRUPT,
])
@pytest.mark.parametrize("output", [".", "other work"])
def test_every_writing_command_refuses_foreign_outputs_before_the_work(sandbox, command, output):
    sandbox(*command, "--output", output, "--overwrite", says=[output if output != "." else "working directory"])


@pytest.mark.parametrize("command,output", [
    (["rank", "--model", "ResNet20", "--dataset", "missing.npz", "--distortion", "awgn"], "precious.txt"),
    (["deepcorrect", "--model", "ResNet20", "--dataset", "missing.npz", "--distortion", "awgn", "--method",
      "finetune"], "unrelated.keras"),
    (["export", "--model", "NoSuchModel"], "other work"),
    (["benchmark", "--dataset", "missing.npz"], "other work"),
    (CORRUPT, "precious.txt"),
])
def test_an_existing_output_is_refused_first_without_overwrite(sandbox, command, output):
    # the missing data / unknown model would fail later: the output check comes first
    sandbox(*command, "--output", output, says=["already exists", "--overwrite", output])


def test_deepcorrect_never_writes_over_its_input_model(sandbox):
    sandbox("deepcorrect", "--model", "unrelated.keras", "--dataset", "images.npz", "--distortion", "awgn",
            "--method", "finetune", "-o", "unrelated.keras", "--overwrite", says=["would replace the input"])


def test_overwrite_replaces_what_the_command_wrote_and_cleans_killed_leftovers(sandbox):
    output = sandbox.work / "noisy"
    sandbox(*CORRUPT, "--output", output, output=output, code=0)
    assert (output / MARKER).is_file() and (output / "gaussian_noise.npy").is_file()
    sandbox(*CORRUPT, "--output", output, output=output, code=1, says=["already exists"])
    dead = sandbox.work / ".noisy.tmp-4194303-abcdef12"  # what a SIGKILLed run leaves (pid 4194303: no process)
    dead.mkdir()
    (dead / "noisy").mkdir()
    result = CliRunner().invoke(cli, [*CORRUPT, "--output", str(output), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert not dead.exists() and sorted(p.name for p in sandbox.work.iterdir()) == [
        "images.npz", "noisy", "other work", "precious.txt", "unrelated.keras"]
    np.savez(output / "mine.npz", images=np.zeros((2, 32, 32, 3), "uint8"), labels=[0, 1])
    sandbox("corrupt", "--dataset", output / "mine.npz", "--output", output, "--overwrite", output=None,
            says=["would replace the input"])


def test_planted_symlinks_never_redirect_a_ranking(tmp_path):
    from keras_robust.deepcorrect import FilterRanking

    victim = tmp_path / "victim.txt"
    victim.write_text("another user's file")
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "ranking.json"
    for pid in range(os.getpid() - 200, os.getpid() + 200):
        (shared / f"ranking.json.tmp{pid}").symlink_to(victim)  # the old writer's names
    FilterRanking(0.5, {"conv": [0.1, 0.3]}).save(target)
    assert victim.read_text() == "another user's file"
    assert json.loads(target.read_text()) and not target.is_symlink()


def test_result_save_refuses_a_folder_it_did_not_write(tmp_path):
    from keras_robust.deepcorrect import FilterRanking

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.txt").write_text("keep")
    with pytest.raises(ValueError, match=r"data is a folder keras_robust did not write"):
        FilterRanking(0.5, {"conv": [0.1]}).save(tmp_path / "data", overwrite=True, figures=False)
    assert (tmp_path / "data" / "x.txt").read_text() == "keep"


# --- faults: corrupt checkpoints and caches ---------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"garbage" * 10, "pickle"])
def test_a_corrupt_checkpoint_names_the_file_and_how_to_start_over(tmp_path, content):
    from keras_robust.training.checkpoint import CHECKPOINT, load_state

    path = tmp_path / CHECKPOINT
    if content == "pickle":
        np.savez(path, epoch=np.array([{"evil": 1}], dtype=object))
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match="not a readable training checkpoint") as caught:
        load_state(tmp_path)
    message = str(caught.value)
    assert str(path) in message and "start over" in message and "allow_pickle" not in message


def test_a_corrupt_cache_entry_is_recomputed(tmp_path):
    from keras_robust.transfer.cache import FeatureCache

    cache = FeatureCache(tmp_path)
    key = {"model": "m", "layer": "fc"}
    cache.save(key, np.ones((2, 3)))
    cache.path(key).write_bytes(b"PK\x03\x04 truncated by a killed run")
    assert cache.load(key) is None  # recomputed by the caller, never a BadZipFile
    cache.save(key, np.zeros((2, 3)))
    np.testing.assert_array_equal(cache.load(key), np.zeros((2, 3)))


# --- the error net: user errors one line, bugs keep their traceback ---------------------------------------------

@pytest.mark.parametrize("error", [KeyError("x"), AttributeError("y")])
def test_bugs_are_not_hidden_as_user_errors(monkeypatch, error):
    import keras_robust.cli.options as options

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(options, "refuse_existing", broken)
    result = CliRunner().invoke(cli, ["export", "--model", "ResNet20", "-o", "x"])
    assert result.exit_code == 1 and isinstance(result.exception, type(error))
