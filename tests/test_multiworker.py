"""Two-worker training with `MultiWorkerMirroredStrategy` on this machine.

Two processes on loopback ports (`TF_CONFIG`) train a tiny model through `keras_robust.training.fit`; the chief
writes the checkpoint. The result is compared with a one-worker run, then one worker is killed mid-run and the
restarted cluster resumes from the last finished epoch, with no corrupt or leftover files.
"""

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

EPOCHS = 30
SEED = 0


def tiny_data(count=512):
    """Separable 8x8 grey images: the class is the brightest of 4 quadrants."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, count)
    images = rng.integers(0, 100, (count, 8, 8, 1)).astype("uint8")
    for index, label in enumerate(labels):
        row, col = divmod(int(label), 2)
        images[index, row * 4:row * 4 + 4, col * 4:col * 4 + 4] += 120
    return images, labels


def tiny_model():
    import keras

    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(4, activation="softmax")(x), name="tiny")


def recipe(epochs=EPOCHS):
    from keras_robust.training import RECIPES

    return dataclasses.replace(RECIPES["lenet"], batch_size=32, learning_rate=0.05).shortened(epochs)


def train(output, distribute=None, epochs=EPOCHS):
    """One worker's part of the run (or the whole run without `distribute`); returns the final weights."""
    from keras_robust.training import fit

    model = fit(tiny_model, tiny_data(), recipe(epochs), output, seed=SEED, distribute=distribute, verbose=0).model
    return [np.asarray(v) for v in model.get_weights()]


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def start_workers(output, epochs=EPOCHS):
    """The two worker processes of one cluster, each writing its final weights beside `output`."""
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2",
                   TF_CONFIG=json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        log = open(Path(output).parent / f"worker{index}.log", "ab")
        processes.append(subprocess.Popen(
            [sys.executable, __file__, str(output), str(index), str(epochs)], env=env, stdout=log,
            stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent))
    return processes


def wait(processes, timeout=150):
    deadline = time.monotonic() + timeout
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(max(1, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append("timeout")
    return codes


def logs(folder):
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(Path(folder).glob("worker*.log")))


def checkpoint_epoch(output):
    from keras_robust.training.checkpoint import load_state

    try:
        state = load_state(output)
    except ValueError:  # never expected: every write is atomic
        return "corrupt"
    return state["epoch"] if state else 0


def test_two_workers_match_one_and_a_killed_cluster_resumes_from_the_last_checkpoint(tmp_path):
    import keras

    from keras_robust.training.checkpoint import load_state, read_log

    output = tmp_path / "run"
    processes = start_workers(output)
    deadline = time.monotonic() + 120
    while checkpoint_epoch(output) < 2 and time.monotonic() < deadline and processes[0].poll() is None:
        time.sleep(0.05)
    processes[1].send_signal(signal.SIGKILL)  # one worker dies mid-run
    killed_at = checkpoint_epoch(output)
    try:  # the chief cannot go on without its peer (MultiWorkerMirroredStrategy is not elastic)
        chief = processes[0].wait(20)
    except subprocess.TimeoutExpired:
        processes[0].kill()
        chief = "hung, killed"
    processes[0].wait()
    print(f"worker 1 killed after epoch {killed_at}; the chief: {chief}")
    state = load_state(output)  # the last finished epoch, readable
    assert 2 <= killed_at <= state["epoch"] < EPOCHS, (killed_at, state["epoch"], chief, logs(tmp_path))
    keras.saving.load_model(output / "last.keras")  # not half-written

    assert wait(start_workers(output)) == [0, 0], logs(tmp_path)  # the restarted cluster resumes and finishes
    assert load_state(output)["epoch"] == EPOCHS
    assert [row["epoch"] for row in read_log(output)] == list(range(EPOCHS))  # each epoch once
    assert sorted(p.name for p in output.iterdir()) == ["best.keras", "checkpoint.npz", "last.keras", "log.csv"]

    one = train(tmp_path / "one")  # one worker, uninterrupted, same seed and global batch
    workers = [np.load(tmp_path / f"weights{index}.npz") for index in range(2)]
    for index, weights in enumerate(one):
        np.testing.assert_array_equal(workers[0][f"arr_{index}"], workers[1][f"arr_{index}"])
        # measured: 1.2e-7 (float32 summation order of the all-reduce); 1e-5 leaves room for other CPUs
        np.testing.assert_allclose(workers[0][f"arr_{index}"], weights, rtol=0, atol=1e-5)


if __name__ == "__main__":  # one worker: python tests/test_multiworker.py OUTPUT INDEX EPOCHS
    output, index, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    weights = train(output, distribute="multiworker", epochs=epochs)
    np.savez(Path(output).parent / f"weights{index}.npz", *weights)
