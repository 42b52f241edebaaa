"""`robust-cli benchmark` and `robust-cli rank` on two loopback workers (`--distribute multiworker`).

Two processes with `TF_CONFIG` on localhost ports run the same command; each evaluates its share of the images and
the counts are summed. Worker 0 writes the output, which must equal a one-process run's exactly; the `distribute`
choice is checked like training's.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from test_multiworker import free_ports, logs, wait

ROOT = Path(__file__).resolve().parent.parent
BENCHMARK = ["benchmark", "--model", "ResNet20", "--limit", "12", "--corruptions", "fog,gaussian_noise",
             "--levels", "1,3", "--batch-size", "5", "--no-figures", "--quiet"]
RANK = ["rank", "--model", "ResNet20", "--distortion", "awgn", "--levels", "20,60", "--layers", "conv1,layer1_0_add",
        "--limit", "7", "--quiet"]


def cli(args):
    from keras_robust.cli.main import cli as group

    result = CliRunner().invoke(group, [str(a) for a in args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def on_two_workers(args, folder):
    """`robust-cli ARGS --distribute multiworker` on two worker processes; their exit codes and outputs."""
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2",
                   TF_CONFIG=json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        log = open(folder / f"worker{index}.log", "wb")
        processes.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "robust-cli"), *map(str, args), "--distribute", "multiworker"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder))
    return wait(processes, timeout=300), logs(folder)


def test_two_workers_benchmark_and_rank_like_one_process(tmp_path):
    from keras_robust.datasets import load_cifar10_sample

    images, labels, _ = load_cifar10_sample()
    np.savez(tmp_path / "images.npz", images=images[:7], labels=labels[:7])
    rank = [*RANK, "--dataset", tmp_path / "images.npz"]

    codes, output = on_two_workers([*BENCHMARK, "-o", tmp_path / "two"], tmp_path)
    assert codes == [0, 0], output
    assert "worker 0 writes the results" in output
    cli([*BENCHMARK, "-o", tmp_path / "one"])
    two, one = (json.loads((tmp_path / name / "results.json").read_text()) for name in ("two", "one"))
    assert two["models"] == one["models"] and two["images"] == 12
    assert any("2 replica(s) on 2 worker(s)" in note for note in two["notes"])

    codes, output = on_two_workers([*rank, "-o", tmp_path / "two.json"], tmp_path)
    assert codes == [0, 0], output
    assert "worker 0 writes the ranking" in output
    cli([*rank, "-o", tmp_path / "one.json"])
    two, one = (json.loads((tmp_path / name).read_text()) for name in ("two.json", "one.json"))
    assert two == one and set(two["scores"]) == {"conv1", "layer1_0_add"}


def test_a_one_device_strategy_gives_the_same_errors_and_ranking():
    from keras_robust.benchmarking import benchmark
    from keras_robust.datasets import load_cifar10_sample
    from keras_robust.deepcorrect import rank_filters
    from keras_robust.deepcorrect.distortions import distort_levels
    from keras_robust.models import resolve_model

    job = dict(limit=11, corruptions="gaussian_noise", levels=(2,), batch_size=4, verbose=False)
    mirrored = benchmark(["ResNet20"], distribute="mirrored", **job)
    assert mirrored.models == benchmark(["ResNet20"], **job).models

    images, labels, _ = load_cifar10_sample()
    images, labels = images[:6].astype("float32"), labels[:6]
    distorted = distort_levels(images, "awgn", (40,), seed=0)
    model = resolve_model("ResNet20")
    for score in ("accuracy_gain", "relative_error"):
        one = rank_filters(model, "conv1", images, distorted, labels, score=score)
        assert rank_filters(model, "conv1", images, distorted, labels, score=score,
                            distribute="mirrored").to_dict() == one.to_dict()


def test_distribute_choices_are_checked(monkeypatch):
    import keras

    from keras_robust.benchmarking import benchmark
    from keras_robust.cli.main import cli as group
    from keras_robust.deepcorrect import rank_filters

    with pytest.raises(ValueError, match=r"one of \('mirrored', 'multiworker'\).*Received: distribute='tpu'"):
        benchmark(["ResNet20"], limit=2, corruptions="fog", levels=(1,), distribute="tpu")
    with pytest.raises(ValueError, match="Received: distribute=2"):
        rank_filters(None, None, None, None, None, distribute=2)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        benchmark(["ResNet20"], limit=2, corruptions="fog", levels=(1,), distribute="multiworker")
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(ValueError, match="needs the TensorFlow backend. Received: the 'jax' backend"):
        benchmark(["ResNet20"], limit=2, corruptions="fog", levels=(1,), distribute="mirrored")
    for command in ("benchmark", "rank", "train"):
        result = CliRunner().invoke(group, [command, "--distribute", "tpu"])
        assert result.exit_code == 2 and "'tpu' is not one of 'mirrored', 'multiworker'" in result.output, \
            result.output


def test_each_worker_takes_one_block_and_the_counts_add_up():
    import tensorflow as tf

    from keras_robust.distribution import shard, worker

    class Member:  # what `shard` reads of a strategy: its cluster
        def __init__(self, cluster, task_type, task_id):
            self.cluster_resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
                tf.train.ClusterSpec(cluster), task_type=task_type, task_id=task_id)

    workers = {"worker": ["a:1", "b:1"]}
    assert worker(None) == (0, 1) and worker(Member(workers, "worker", 1)) == (1, 2)
    assert worker(Member({"chief": ["c:1"], **workers}, "worker", 0)) == (1, 3)
    assert [shard(7, Member(workers, "worker", i)).tolist() for i in range(2)] == [[0, 1, 2, 3], [4, 5, 6]]
    with pytest.raises(ValueError, match="Received: 1 image"):
        shard(1, Member(workers, "worker", 0))
