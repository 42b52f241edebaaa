"""Hostile and faulty inputs through the API and `robust-cli` (issues 15 and 30): refused with a one-line message
naming what was received, no traceback, and nothing outside the output touched. Every hostile file is built here,
small."""

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
    (["export", "--model", "ResNet20", "--weights", "missing.weights.h5"], "other work"),
    (["benchmark", "--dataset", "missing.npz"], "other work"),
    (CORRUPT, "precious.txt"),
])
def test_an_existing_output_is_refused_first_without_overwrite(sandbox, command, output):
    # the missing data / weights file would fail later: the output check comes first
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


# --- wrong results must never be silent: labels, pixels, learning rate ----------------------------------

def _npz(path, images, labels, **extra):
    np.savez(path, images=images, labels=labels, **extra)
    return path


def _pixels(dtype="uint8", count=4):
    return np.random.default_rng(0).integers(0, 256, (count, 32, 32, 3)).astype(dtype)


BENCH = ["benchmark", "--model", "ResNet20", "--weights", "none", "--corruptions", "gaussian_noise", "--levels",
         "1", "--quiet", "-o", "out"]


@pytest.mark.parametrize("labels,words", [
    ([50, 51, 52, 53], "range [50, 53]"),  # a 10-class model: refused against its classes
    ([-5, -4, 3, 4], "range [-5, 4]"),
    ([0.5, 1.0, 2.0, 3.0], "not fractions"),
])
def test_benchmark_refuses_labels_outside_the_models_classes(sandbox, labels, words):
    _npz(sandbox.work / "bad.npz", _pixels(), np.asarray(labels))
    sandbox(*BENCH, "--dataset", "bad.npz", says=[words, "labels", "Received"])
    assert not (sandbox.work / "out").exists()


@pytest.mark.parametrize("value,words", [(np.nan, "1 NaN"), (np.inf, "1 inf"), (-1.0, "range [-1.0")])
@pytest.mark.parametrize("command", ["corrupt", "benchmark"])
def test_non_finite_or_out_of_range_pixels_are_refused(sandbox, value, words, command):
    images = _pixels("float32")
    images[1, 2, 3, 0] = value
    _npz(sandbox.work / "float.npz", images, [0, 1, 2, 3])
    args = {"corrupt": [*CORRUPT, "--output", "out"], "benchmark": BENCH}[command]
    sandbox(*args, "--dataset", "float.npz", says=[words, "float.npz", "Received"])


@pytest.mark.parametrize("arrays,words", [
    ({}, "Received arrays: []"),
    ({"images": np.zeros((0, 32, 32, 3), "uint8"), "labels": np.zeros(0, "int64")}, "at least one image"),
])
def test_empty_npz_files_are_refused(sandbox, arrays, words):
    np.savez(sandbox.work / "empty.npz", **arrays)
    sandbox(*CORRUPT, "--dataset", "empty.npz", "--output", "out", says=[words, "empty.npz"])


def test_an_empty_file_named_npz_is_refused(sandbox):
    (sandbox.work / "zero.npz").write_bytes(b"")
    sandbox(*CORRUPT, "--dataset", "zero.npz", "--output", "out", says=["zero.npz", "not a readable .npz"])


def test_a_pickled_npz_is_refused_without_the_allow_pickle_advice(sandbox):
    np.savez(sandbox.work / "evil.npz", images=np.array([{"x": 1}], dtype=object), labels=[0])
    result = sandbox(*CORRUPT, "--dataset", "evil.npz", "--output", "out", says=["pickled objects", "evil.npz"])
    assert "allow_pickle" not in result.output


TRAIN = ["train", "--model", "LeNetA", "--epochs", "1", "--no-validation", "--quiet", "-o", "run"]


def test_train_refuses_a_one_class_dataset(sandbox):
    _npz(sandbox.work / "one.npz", np.zeros((8, 28, 28, 1), "uint8"), np.zeros(8, "int64"))
    sandbox(*TRAIN, "--dataset", "one.npz", output=sandbox.work / "run", says=["at least two classes", "only class 0"])


@pytest.mark.parametrize("rate", ["nan", "inf", "0", "-0.1"])
def test_train_refuses_a_learning_rate_that_is_not_a_positive_number(sandbox, rate):
    _npz(sandbox.work / "two.npz", np.zeros((8, 28, 28, 1), "uint8"), np.arange(8) % 2)
    sandbox(*TRAIN, "--dataset", "two.npz", "--learning-rate", rate, output=sandbox.work / "run",
            says=["`learning_rate` must be a finite number > 0", "Received: learning_rate="])
    assert not (sandbox.work / "run" / "checkpoint.npz").exists()


def test_fit_refuses_labels_beyond_the_models_classes(tmp_path):
    import keras

    from keras_robust.training import RECIPES, fit

    def model_fn():
        inputs = keras.Input((8, 8, 1))
        return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inputs)))

    images = np.zeros((6, 8, 8, 1), "uint8")
    with pytest.raises(ValueError, match=r"labels of the training data.*\[0, 2\].*Received: 1 labels outside"):
        fit(model_fn, (images, np.array([0, 1, 2, 0, 1, 3])), RECIPES["lenet"], tmp_path / "run", epochs=1)
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


# --- empty, truncated, oversized and malformed inputs ---------------------------------------------------

def test_a_truncated_tar_gz_is_one_line_naming_the_file(sandbox):
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for index in range(3):
            data = np.random.default_rng(index).bytes(20_000)
            member = tarfile.TarInfo(f"test/c{index}/x.png")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    (sandbox.work / "cut.tar.gz").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    result = sandbox(*CORRUPT, "--dataset", "cut.tar.gz", "--output", "out",
                     says=["cut.tar.gz", "not a readable .tar/.tar.gz archive"])
    assert "Aborted" not in result.output


def _png_header(path, width, height):
    """A PNG that claims `width` x `height` pixels in a few bytes: a decompression bomb for Pillow."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) +
                     chunk(b"IEND", b""))
    return path


@pytest.fixture
def tiny_keras(tmp_path):
    import keras

    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
    path = tmp_path / "tiny.keras"
    model.save(path)
    return path


def test_predict_refuses_a_decompression_bomb_png(sandbox, tiny_keras):
    _png_header(sandbox.work / "bomb.png", 30_000, 30_000)
    sandbox("predict", "--model", tiny_keras, "bomb.png", says=["bomb.png", "too large", "Accepted"])


@pytest.mark.parametrize("batch,words", [
    (np.zeros((0, 32, 32, 3), "uint8"), "at least one image"),
    (np.zeros((2, 32, 32, 1), "uint8"), "(N, 32, 32, 3)"),
    (np.full((1, 32, 32, 3), np.nan, "float32"), "non-finite"),
    (np.zeros((32, 32, 3), "uint8"), "Received: shape=(32, 32, 3)"),
])
def test_a_classifier_refuses_empty_grey_or_nan_batches(tiny_keras, batch, words):
    from keras_robust.export import Classifier

    with pytest.raises(ValueError, match="`images` must") as caught:
        Classifier(tiny_keras)(batch)
    assert words in str(caught.value) and "Received" in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 cut short", "object"])
def test_malformed_torch_checkpoints_never_advise_weights_only_false(tmp_path, content):
    torch = pytest.importorskip("torch")
    from keras_robust.applications.torch_weights import read_state_dict

    path = tmp_path / "bad.pth"
    if content == "object":
        torch.save({"state_dict": {"w": torch.zeros(2)}, "extra": Path("not a tensor")}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match="bad.pth is not a readable PyTorch checkpoint") as caught:
        read_state_dict(str(path))
    assert "weights_only=False" not in str(caught.value) and "Received: path=" in str(caught.value)


# --- corrupt: empty batches, names and seeds ------------------------------------------------------

@pytest.mark.parametrize("args,kwargs,words", [
    ((np.zeros((0, 32, 32, 3), "uint8"), "fog", 1), {}, "Received: shape=(0, 32, 32, 3)"),
    ((np.zeros((2, 32, 32, 3), "uint8"), ["fog"], 1), {}, "Received: name=['fog']"),
    ((np.zeros((2, 32, 32, 3), "uint8"), "gaussian_noise", 1), {"seed": -1}, "`seed` must be"),
    ((np.zeros((2, 32, 32, 3), "uint8"), "gaussian_noise", 1), {"seed": "abc"}, "Received: seed='abc'"),
])
def test_corrupt_refuses_empty_batches_list_names_and_bad_seeds(args, kwargs, words):
    from keras_robust.corruptions import corrupt

    with pytest.raises(ValueError) as caught:
        corrupt(*args, **kwargs)
    assert words in str(caught.value)


# --- the error net covers what users cause -------------------------------------------------------------

@pytest.mark.parametrize("error,user", [
    (TypeError("bug"), False),
    (__import__("pickle").UnpicklingError("refused global"), True),
    (PermissionError(13, "Permission denied: out"), True),
    (__import__("zipfile").BadZipFile("File is not a zip file"), True),
    (__import__("zlib").error("Error -3 while decompressing data: invalid stored block lengths"), True),
])
def test_the_error_net_shows_user_errors_in_one_line_and_keeps_bugs(monkeypatch, error, user):
    import keras_robust.cli.options as options

    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(options, "refuse_existing", failing)
    result = CliRunner().invoke(cli, ["export", "--model", "ResNet20", "-o", "x"])
    assert result.exit_code == 1
    if user:
        assert result.output.startswith("Error: ") and str(error) in result.output
    else:
        assert isinstance(result.exception, TypeError)


# --- wrong shapes and malformed rankings -------------------------------------------------------------------------

def test_a_grey_input_shape_is_refused_by_an_rgb_builder():
    from keras_robust.applications import ResNet20

    with pytest.raises(ValueError, match=r"3 channel\(s\).*Received: input_shape=\(32, 32, 1\)"):
        ResNet20(weights=None, input_shape=(32, 32, 1))


def test_train_refuses_grey_images_for_an_rgb_builder(sandbox):
    _npz(sandbox.work / "grey.npz", np.zeros((8, 32, 32, 1), "uint8"), np.arange(8) % 2)
    sandbox(*TRAIN[:2], "ResNet20", *TRAIN[3:], "--dataset", "grey.npz", output=sandbox.work / "run",
            says=["3 channel(s)", "Received: input_shape=(32, 32, 1)"])


@pytest.mark.parametrize("content,says", [
    ('{"a": 1}', "expected a JSON object with 'baseline' and 'scores'"),
    ("[1, 2]", "expected a JSON object"),
    ('{"baseline": 0.5, "scores": 7}', "'scores' must map layer names to lists of numbers"),
    ('{"baseline": 0.5, "scores": {"conv1": "x"}}', "'scores' must map layer names to lists of numbers"),
    ('{"baseline": 0.5, "scores": {"conv1": [1, "b"]}}', "'scores' must map layer names to lists of numbers"),
    ('{"baseline": "high", "scores": {"conv1": [1, 2]}}', "'baseline' must be a number"),
    ('{"baseline": 0.5, "scores": {}, "points": 3}', "'points' must be an object"),
    ("{not json", "is not a JSON file"),
])
def test_a_malformed_ranking_is_refused_with_the_files_name(sandbox, content, says):
    (sandbox.work / "ranking.json").write_text(content)
    sandbox("deepcorrect", "--model", "ResNet20", "--ranking", "ranking.json", "--dataset", "images.npz",
            "--distortion", "awgn", "--output", "out.keras", output=sandbox.work / "out.keras",
            says=["ranking.json", says])
    assert not (sandbox.work / "out.keras").exists()


# --- resource bounds: no input takes the machine down ------------------------------------------------------------

def _capped():
    from keras_robust.corruptions import suite

    return [name for name, corruption in suite._CORRUPTIONS.items() if corruption.capped]


@pytest.mark.parametrize("name", _capped())
def test_whole_image_corruptions_refuse_images_above_their_limit(sandbox, name):
    from keras_robust.corruptions.suite import MAX_WHOLE_IMAGE_PIXELS

    _npz(sandbox.work / "large.npz", np.zeros((1, 1025, 1024, 3), "uint8"), [0])
    sandbox("corrupt", "--dataset", "large.npz", "--corruptions", name, "--levels", "1", "--quiet", "-o", "out",
            says=[name, "Received: shape=(1, 1025, 1024, 3) (1049600 pixels per image)",
                  f"H × W <= {MAX_WHOLE_IMAGE_PIXELS}"])
    assert not (sandbox.work / "out").exists()


def _npy_claiming(shape):
    """An .npy header claiming `shape` (uint8) over 100 bytes of data: a memory bomb for a reader that trusts it."""
    import struct

    header = f"{{'descr': '|u1', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + bytes(100)


@pytest.mark.parametrize("command", ["corrupt", "benchmark"])
def test_an_npz_whose_header_claims_terabytes_is_refused_naming_the_file(sandbox, command):
    labels = __import__("io").BytesIO()
    np.save(labels, np.arange(4))
    _keras_zip(sandbox.work / "bomb.npz", {"images.npy": _npy_claiming((100_000, 1000, 1000, 3)),
                                           "labels.npy": labels.getvalue()})
    args = {"corrupt": [*CORRUPT, "--output", "out"], "benchmark": BENCH}[command]
    sandbox(*args, "--dataset", "bomb.npz", says=["bomb.npz", "larger than this machine's memory"])
    assert not (sandbox.work / "out").exists()


@pytest.mark.parametrize("distortion,level,says", [
    ("awgn", "1e9", "`sigma` must be a finite number in [0, 255]. Received: sigma=1000000000.0"),
    ("awgn", "inf", "Received: sigma=inf"),
    ("gaussian_blur", "1e9", "for images of 32×32 pixels. Received: sigma=1000000000.0"),
])
def test_rank_refuses_distortion_levels_that_would_exhaust_the_machine(sandbox, tiny_keras, distortion, level, says):
    sandbox("rank", "--model", tiny_keras, "--dataset", "images.npz", "--distortion", distortion, "--levels", level,
            "-o", "r.json", says=[says])
    assert not (sandbox.work / "r.json").exists()


# --- malformed files each command reads: refused with the file's name, nothing written ---------------------------

@pytest.mark.parametrize("content,says", [
    ("[" * 100_000, "is not a JSON file"),  # nested past Python's recursion limit
    (b"\xff\xfe\x00binary", "is not a JSON file"),
    ("", "is not a JSON file"),
    ("null", "expected a JSON object"),
    ('{"baseline": 0.5, "scores": {"conv1": [NaN, 1]}}', "lists of numbers (finite, one per filter)"),
    ('{"baseline": 0.5, "scores": {"conv1": [1e400]}}', "lists of numbers (finite, one per filter)"),
    ('{"baseline": 0.5, "scores": {"conv1": []}}', "lists of numbers (finite, one per filter)"),
    ('{"baseline": Infinity, "scores": {"conv1": [1]}}', "'baseline' must be a number (finite)"),
])
def test_a_hostile_ranking_is_refused_with_the_files_name(sandbox, content, says):
    path = sandbox.work / "ranking.json"
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    sandbox("deepcorrect", "--model", "ResNet20", "--ranking", "ranking.json", "--dataset", "images.npz",
            "--distortion", "awgn", "--output", "out.keras", output=sandbox.work / "out.keras",
            says=["ranking.json", says])
    assert not (sandbox.work / "out.keras").exists()


def _result_classes():
    from keras_robust.benchmarking.report import BenchmarkResult
    from keras_robust.deepcorrect import FilterRanking
    from keras_robust.transfer.results import TransferResults

    return {"benchmark": BenchmarkResult, "ranking": FilterRanking, "transfer": TransferResults}


@pytest.mark.parametrize("content,says", [("[" * 100_000, "is not a JSON file"), ("[]", "written by save")])
@pytest.mark.parametrize("kind", ["benchmark", "ranking", "transfer"])
def test_malformed_result_files_are_refused_with_the_files_name(tmp_path, kind, content, says):
    folder = tmp_path / "result"
    folder.mkdir()
    (folder / "results.json").write_text(content)
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match="results.json") as caught:
        _result_classes()[kind].load(folder)
    assert says in str(caught.value) and len(str(caught.value)) < 1000
    assert snapshot(tmp_path) == before


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished one-epoch LeNetA run (checkpoint.npz, log.csv, last.keras, best.keras) and its data."""
    folder = tmp_path_factory.mktemp("finished")
    _npz(folder / "two.npz", np.random.default_rng(0).integers(0, 256, (8, 28, 28, 1), dtype=np.uint8),
         np.arange(8) % 2)
    result = CliRunner().invoke(cli, [*TRAIN[:-1], str(folder / "run"), "--seed", "0", "--dataset",
                                      str(folder / "two.npz")])
    assert result.exit_code == 0, result.output
    return folder


def _resume(sandbox, finished_run, says):
    """The finished run copied into the sandbox, its file broken by the caller, then resumed: refused, untouched."""
    sandbox(*TRAIN[:-1], "run", "--seed", "0", "--dataset", finished_run / "two.npz", says=says)


@pytest.fixture
def run_copy(sandbox, finished_run):
    import shutil

    shutil.copytree(finished_run / "run", sandbox.work / "run")
    return sandbox.work / "run"


@pytest.mark.parametrize("content,says", [
    ("step,value\n1,2\n", "no 'epoch' column"),
    ("epoch,loss\n0,oops\n", "not a training log"),
    ("epoch,loss\n0\n", "not a training log"),  # a short row
    ("epoch,loss\n0,1,2\n", "not a training log"),  # a long row
    (b"\xff\xfe\x00\x01binary", "not a training log"),
])
def test_resuming_over_a_malformed_log_is_refused_with_its_name(sandbox, finished_run, run_copy, content, says):
    log = run_copy / "log.csv"
    log.write_bytes(content) if isinstance(content, bytes) else log.write_text(content)
    _resume(sandbox, finished_run, says=["log.csv", says])


def _checkpoint_arrays(path):
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


@pytest.mark.parametrize("damage,says", [
    ("empty", "not a readable training checkpoint"),
    ("truncated", "not a readable training checkpoint"),
    ("pickled", "it holds pickled objects"),
    ("no epoch", "not a readable training checkpoint"),
    ("wrong shapes", "variables do not match"),
    ("another run", "holds the checkpoint of another run"),
])
def test_resuming_from_a_malformed_checkpoint_is_refused_with_its_name(sandbox, finished_run, run_copy, damage, says):
    path = run_copy / "checkpoint.npz"
    arrays = _checkpoint_arrays(path)
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "pickled":
        np.savez(path, **{**arrays, "epoch": np.array([{"evil": 1}], dtype=object)})
    elif damage == "no epoch":
        np.savez(path, **{key: value for key, value in arrays.items() if key != "epoch"})
    elif damage == "wrong shapes":
        np.savez(path, **{**arrays, "model/0": np.zeros(3, "float32")})
    else:
        config = json.loads(str(arrays["config"]))
        np.savez(path, **{**arrays, "config": np.str_(json.dumps({**config, "seed": 99}))})
    _resume(sandbox, finished_run, says=["run", says])


@pytest.mark.parametrize("case", ["empty", "deeply_nested", "many_entries"])
@pytest.mark.parametrize("command", ["benchmark", "deepcorrect"])
def test_hostile_keras_files_are_refused_by_benchmark_and_deepcorrect(case, command, sandbox, tmp_path):
    make, words = KERAS_CASES[case]
    path = make(tmp_path / "bad.keras")
    args = {"benchmark": [*BENCH[:2], path, *BENCH[3:], "--dataset", "images.npz"],
            "deepcorrect": ["deepcorrect", "--model", path, "--dataset", "images.npz", "--distortion", "awgn",
                            "--method", "finetune", "-o", "out.keras"]}
    sandbox(*args[command], says=[words, "bad.keras"])
    assert not (sandbox.work / "out").exists() and not (sandbox.work / "out.keras").exists()


@pytest.mark.parametrize("name,content,says", [
    ("empty.png", b"", "cannot identify image file"),
    ("half.png", "half", "image file is truncated"),
    ("text.jpg", b"hello, not a picture", "cannot identify image file"),
    ("x.gif", b"GIF89a" + bytes(10), "cannot identify image file"),
])
def test_predict_refuses_malformed_image_files_with_their_name(sandbox, tiny_keras, name, content, says):
    import tensorflow as tf

    if content == "half":
        png = tf.io.encode_png(tf.zeros((32, 32, 3), tf.uint8)).numpy()
        content = png[: len(png) // 2]
    (sandbox.work / name).write_bytes(content)
    sandbox("predict", "--model", tiny_keras, name, says=[f"Cannot decode {name} as an image", says, "Accepted"])


@pytest.mark.parametrize("arrays,says", [
    ({"images": np.zeros((4, 32, 32, 3), "uint8"), "labels": [0, 1]}, "Received shapes: (4, 32, 32, 3) and (2,)"),
    ({"images": np.zeros((4, 32, 32, 5), "uint8"), "labels": [0, 1, 2, 3]}, "Received: shape=(4, 32, 32, 5)"),
    ({"images": np.zeros((4, 4, 4, 3), "uint8"), "labels": [0, 1, 2, 3]}, "at least 8×8 pixels"),
    ({"images": np.full((4, 32, 32, 3), 1000, "uint16"), "labels": [0, 1, 2, 3]}, "Received: range [1000, 1000]"),
    ({"images": np.zeros((4, 32, 32, 3), "uint8"), "labels": np.array(list("abcd"))}, "must be integers >= 0"),
    ({"images": np.zeros((4, 32, 32, 3), "uint8")}, "Received arrays: ['images']"),
    ({"images": np.zeros((4, 32, 32, 3), "complex64"), "labels": [0, 1, 2, 3]}, "Received: dtype=complex64"),
])
def test_corrupt_refuses_malformed_npz_arrays(sandbox, arrays, says):
    np.savez(sandbox.work / "bad.npz", **arrays)
    sandbox(*CORRUPT, "--dataset", "bad.npz", "--output", "out", says=[says])
    assert not (sandbox.work / "out").exists()
