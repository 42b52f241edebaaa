"""A `kill -9` in the middle of the writes of `corrupt`, `benchmark`, `rank`, `train` and `export` leaves no output
that looks complete, and the rerun works.

`tests/kill_at_write.py` runs each command uninterrupted (M writes), then kills it just before its 2nd, middle and
last write (the last is the rename that puts the output in place), copies what the kill left, and reruns it."""

import json
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from keras_robust.atomic import MARKER
from keras_robust.training.checkpoint import load_state, read_log

WRAPPER = Path(__file__).with_name("kill_at_write.py")
TF = ["tensorflow", "keras", "keras_robust.cli.main"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A 4-image RGB set, an 8-image grey two-class set and a tiny convolutional classifier (.keras)."""
    import keras

    folder = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    np.savez(folder / "images.npz", images=rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8), labels=[0, 1, 2, 3])
    np.savez(folder / "digits.npz", images=rng.integers(0, 256, (8, 28, 28, 1), dtype=np.uint8),
             labels=np.arange(8) % 2)
    keras.utils.set_random_seed(0)
    image = keras.Input((32, 32, 3))
    features = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3, activation="relu")(image / 255.0))
    keras.Model(image, keras.layers.Dense(10, activation="softmax")(features)).save(folder / "tiny.keras")
    return folder


def kill_and_rerun(tmp_path, args, preload=()):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"root": str(tmp_path), "args": [str(a) for a in args], "preload": list(preload)}))
    done = subprocess.run([sys.executable, str(WRAPPER), str(spec)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = json.loads((tmp_path / "report.json").read_text())
    reference, rest = runs[0], runs[1:]
    assert reference["exit"] == 0 and reference["writes"] >= 2, (runs, done.stdout[-2000:], done.stderr[-3000:])
    kills, reruns = rest[0::2], rest[1::2]
    # the 2nd write, the middle one and the last one (fewer when the command makes only 2 or 3)
    assert [kill["kill_at"] for kill in kills] == sorted({2, (reference["writes"] + 2) // 2, reference["writes"]})
    for kill, rerun in zip(kills, reruns):
        assert kill["signal"] == signal.SIGKILL and kill["writes"] is None, kill  # killed, never reached its end
        assert rerun["exit"] == 0, (rerun, done.stderr[-3000:])
    return [(tmp_path / f"{kill['folder']}.after-kill", tmp_path / kill["folder"]) for kill in kills]


def private_folders(folder, output):
    return [entry for entry in folder.iterdir() if entry.name.startswith(f".{output}.tmp-")]


def assert_one_output_appears_whole(pairs, reference, output, same_bytes=()):
    """After each kill only private folders of the killed write (no `output`); after the rerun `output` alone,
    holding what the uninterrupted run wrote, with the same bytes for `same_bytes`."""
    expected = sorted(p.relative_to(reference).as_posix() for p in (reference / output).rglob("*"))
    for killed, rerun in pairs:
        assert not (killed / output).exists(), f"{killed / output} looks complete"
        assert sorted(killed.iterdir()) == sorted(private_folders(killed, output)), sorted(killed.iterdir())
        assert [p.name for p in rerun.iterdir()] == [output], "the rerun left the killed write's folder behind"
        assert sorted(p.relative_to(rerun).as_posix() for p in (rerun / output).rglob("*")) == expected
        for name in same_bytes:
            assert (rerun / output / name).read_bytes() == (reference / output / name).read_bytes(), name


def test_corrupt(tmp_path, inputs):
    pairs = kill_and_rerun(tmp_path, ["corrupt", "--dataset", inputs / "images.npz", "--corruptions",
                                      "gaussian_noise,fog", "--levels", "1,2", "--quiet", "-o", "out"])
    assert len(pairs) == 3
    assert_one_output_appears_whole(pairs, tmp_path / "reference", "out",
                                    same_bytes=["gaussian_noise.npy", "fog.npy", "labels.npy", "info.json", MARKER])


def test_benchmark(tmp_path, inputs):
    pairs = kill_and_rerun(tmp_path, ["benchmark", "--model", inputs / "tiny.keras", "--dataset",
                                      inputs / "images.npz", "--corruptions", "gaussian_noise", "--levels", "1",
                                      "--quiet", "-o", "bench"], preload=TF)
    assert len(pairs) == 3
    assert_one_output_appears_whole(pairs, tmp_path / "reference", "bench", same_bytes=[MARKER])


def test_rank(tmp_path, inputs):
    pairs = kill_and_rerun(tmp_path, ["rank", "--model", inputs / "tiny.keras", "--dataset", inputs / "images.npz",
                                      "--distortion", "awgn", "--levels", "10", "--quiet", "-o", "ranking.json"],
                           preload=TF)
    assert_one_output_appears_whole(pairs, tmp_path / "reference", "ranking.json")
    for _, rerun in pairs:
        assert json.loads((rerun / "ranking.json").read_text()) == json.loads(
            (tmp_path / "reference" / "ranking.json").read_text())


def test_export(tmp_path, inputs):
    pairs = kill_and_rerun(tmp_path, ["export", "--model", inputs / "tiny.keras", "-o", "served"], preload=TF)
    assert_one_output_appears_whole(pairs, tmp_path / "reference", "served", same_bytes=[MARKER])


def test_train(tmp_path, inputs):
    epochs = 2
    pairs = kill_and_rerun(tmp_path, ["train", "--model", "LeNetA", "--dataset", inputs / "digits.npz", "--epochs",
                                      epochs, "--no-validation", "--seed", "0", "--quiet", "-o", "run"], preload=TF)
    assert len(pairs) == 3
    reference = load_state(tmp_path / "reference" / "run")
    assert reference["epoch"] == epochs
    for killed, rerun in pairs:
        run = killed / "run"
        # a run is complete when its checkpoint, written last, has every epoch; every file under its own name is
        # whole (the killed write's folder aside)
        state = load_state(run)
        assert state is None or state["epoch"] < epochs, f"{run} looks complete"
        for path in run.iterdir():
            if path.name.startswith("."):
                assert path.is_dir() and ".tmp-" in path.name, path
            elif path.suffix == ".keras":
                assert zipfile.ZipFile(path).testzip() is None
        assert [row["epoch"] for row in read_log(run)] in ([], [0], [0, 1])
        resumed = load_state(rerun / "run")
        assert resumed["epoch"] == epochs and [row["epoch"] for row in read_log(rerun / "run")] == [0, 1]
        assert not [p for p in (rerun / "run").iterdir() if p.name.startswith(".")], "killed writes left behind"
        for ours, theirs in zip(resumed["model"], reference["model"]):
            np.testing.assert_array_equal(ours, theirs)  # the same weights as the uninterrupted run
