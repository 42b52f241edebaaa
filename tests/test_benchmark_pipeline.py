"""The benchmark's producer/consumer pipeline: same copies and errors as corrupting in turn, bounded, timed."""

import threading
import time

import numpy as np
import pytest

from keras_robust.benchmarking import BenchmarkResult
from keras_robust.benchmarking.evaluation import QUEUE_SIZE, distortion_tasks, evaluate, evaluate_timed


def producer_threads():
    return [t for t in threading.enumerate() if t.name == "keras_robust_benchmark"]


class Recorder:
    """A 'model' that keeps every batch it sees and scores images by their mean brightness."""

    def __init__(self):
        self.batches = []

    def __call__(self, images):
        self.batches.append(np.array(images))
        means = np.asarray(images, np.float32).mean(axis=(1, 2, 3))
        return np.stack([means < 100, (means >= 100) & (means < 150), means >= 150], axis=-1).astype(np.float32)


class Marked:
    """A task whose copy is the clean images filled with its index; it notes how far ahead of the model it ran."""

    def __init__(self, index, seen, lags, delay=0.0, fail=False):
        self.group, self.level, self.index, self.seen, self.lags = "marked", index, index, seen, lags
        self.delay, self.fail = delay, fail

    def apply(self, images):
        if self.fail:
            raise ValueError(f"task {self.index} failed")
        time.sleep(self.delay)
        self.lags.append(self.index - (self.seen[-1] if self.seen else -1))
        return np.full_like(images, self.index)


def test_overlapped_run_sees_the_same_copies_and_gives_the_same_errors_as_the_sequential_one():
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (10, 32, 32, 3), dtype=np.uint8), rng.integers(0, 3, 10)
    tasks = distortion_tasks(["gaussian_noise", "fog", "jpeg_compression"], (1, 5), seed=3)
    runs = {}
    for overlap in (False, True):
        models = {"a": Recorder(), "b": Recorder()}
        results = evaluate(models, images, labels, tasks, batch_size=4, overlap=overlap)
        runs[overlap] = results, [b for m in models.values() for b in m.batches]
    assert runs[True][0] == runs[False][0]
    assert len(runs[True][1]) == len(runs[False][1]) == 2 * 3 * (1 + len(tasks))  # 3 batches of <= 4 images
    for overlapped, sequential in zip(runs[True][1], runs[False][1]):
        np.testing.assert_array_equal(overlapped, sequential)
    assert not np.array_equal(runs[True][1][3], runs[True][1][0])  # the copies are corrupted, not the clean images
    assert producer_threads() == []


def test_the_producer_runs_at_most_queue_size_copies_ahead_of_the_models():
    seen, lags = [], []

    def model(images):
        seen.append(int(images[0, 0, 0, 0]))
        time.sleep(0.01)  # slower than the producer: it has to wait on the full queue
        return np.zeros((len(images), 2), np.float32)

    tasks = [Marked(i, seen, lags) for i in range(12)]
    results = evaluate({"m": model}, np.zeros((2, 4, 4, 1), np.uint8), np.zeros(2, int), tasks)
    assert sorted(results["m"]["errors"]["marked"]) == list(range(12))
    assert seen[1:] == list(range(12))  # the clean images first (all zero), then the copies in order
    # making copy i while the model has seen copy j: i - j - 1 copies wait, one is being made
    assert max(lags) <= QUEUE_SIZE + 2 and max(lags) >= 2  # ran ahead, but bounded


def test_an_error_while_corrupting_reaches_the_caller_and_stops_the_thread():
    seen, lags = [], []
    tasks = [Marked(0, seen, lags), Marked(1, seen, lags, fail=True), Marked(2, seen, lags)]
    with pytest.raises(ValueError, match="task 1 failed"):
        evaluate({"m": lambda x: np.zeros((len(x), 2))}, np.zeros((2, 4, 4, 1), np.uint8), np.zeros(2, int), tasks)
    assert producer_threads() == []


def test_an_error_in_a_model_stops_the_producer():
    calls = []

    def model(images):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("model broke")
        return np.zeros((len(images), 2))

    seen, lags = [], []
    tasks = [Marked(i, seen, lags) for i in range(50)]
    with pytest.raises(RuntimeError, match="model broke"):
        evaluate({"m": model}, np.zeros((2, 4, 4, 1), np.uint8), np.zeros(2, int), tasks)
    assert producer_threads() == [] and len(lags) <= QUEUE_SIZE + 3  # it stopped instead of making all 50


def test_timings_measure_each_side():
    seen, lags = [], []

    def model(images):
        time.sleep(0.02)
        return np.zeros((len(images), 2))

    tasks = [Marked(i, seen, lags, delay=0.03) for i in range(4)]
    _, timings = evaluate_timed({"m": model}, np.zeros((2, 4, 4, 1), np.uint8), np.zeros(2, int), tasks,
                                overlap=False)
    assert timings.corruption >= 4 * 0.03 and timings.inference >= 5 * 0.02
    assert timings.wall >= timings.corruption + timings.inference  # in turn: the sum


def test_the_report_states_the_times_and_keeps_them_in_json():
    models = {"A": {"clean_error": 10.0, "errors": {"fog": {1: 20.0}}, "corruption_error": 20.0, "mCE": None,
                    "rCE": None}}
    result = BenchmarkResult(models, dataset="demo", corruptions=["fog"], levels=[1],
                             timings={"corruption": 12.0, "inference": 40.0, "wall": 44.0})
    assert ("making the corrupted images took 12.0 s and evaluating the models on all the images 40.0 s" in
            result.to_markdown() and "the run took 44.0 s" in result.to_markdown())
    again = BenchmarkResult.from_dict(result.to_dict())
    assert again.timings == result.timings
    assert "Time:" not in BenchmarkResult(models, dataset="demo", corruptions=["fog"], levels=[1]).to_markdown()
