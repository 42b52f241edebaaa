"""Training: recipes, coupled weight decay, the tf.data pipeline, exact resume, distribution, CLI."""

import dataclasses
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from keras_robust.cli.main import cli
from keras_robust.datasets import load_mnist_test
from keras_robust.training import (
    RECIPES,
    SGDWithL2,
    TrainingResult,
    augment_batch,
    fit,
    recipe_for,
    steps_per_epoch,
    training_dataset,
)
from keras_robust.training.checkpoint import load_state, read_log

# A short LeNet-style recipe: 64 images per batch, lr 0.1 -> 0.01 (epoch 1) -> 0.001 (epoch 3) over 4 epochs.
SHORT = dataclasses.replace(RECIPES["lenet"], batch_size=64).shortened(4)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist_test()


def small_model():
    """Conv + BatchNorm + Dropout: every kind of state a resume must restore."""
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 5, strides=2, activation="relu")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.3)(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x), name="small")


def state_arrays(model):
    return [v.numpy() for v in model.variables + model.optimizer.variables]


@pytest.mark.parametrize("module", ["training.recipes", "optimizers", "training.pipeline"])
def test_docstring_examples(module):
    import doctest
    import importlib

    tested = importlib.import_module(f"keras_robust.{module}")
    result = doctest.testmod(tested, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_recipes_are_the_papers():
    resnet, densenet, lenet = RECIPES["resnet"], RECIPES["densenet"], RECIPES["lenet"]
    assert (resnet.epochs, resnet.batch_size, resnet.learning_rate, resnet.milestones, resnet.weight_decay) == (
        200, 128, 0.1, (80, 120, 160), 1e-4)
    assert (densenet.epochs, densenet.batch_size, densenet.milestones, densenet.weight_decay) == (
        350, 64, (150, 225, 300), 1e-4)
    assert (lenet.epochs, lenet.learning_rate, lenet.milestones, lenet.weight_decay) == (90, 0.1, (30, 60), 5e-4)
    assert resnet.augment and densenet.augment and not lenet.augment
    assert all(r.momentum == 0.9 for r in RECIPES.values())
    assert [recipe_for(n).name for n in ("ResNet20PP", "DenseNet40_12", "LeNetPA")] == ["resnet", "densenet", "lenet"]
    with pytest.raises(ValueError, match="No recipe for model 'AlexNetCIFAR'"):
        recipe_for("AlexNetCIFAR")
    assert resnet.shortened(20).milestones == (8, 12, 16)
    assert lenet.shortened(3).milestones == (1, 2)
    with pytest.raises(ValueError, match="Received: epochs=0"):
        resnet.shortened(0)


def test_learning_rate_schedule_counts_steps():
    recipe = RECIPES["resnet"].shortened(20)
    schedule = recipe.schedule(steps_per_epoch=10)
    assert [float(schedule(step)) for step in (0, 79, 80, 119, 120, 160)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 1e-4])
    assert [recipe.learning_rate_at(e) for e in (7, 8, 19)] == pytest.approx([0.1, 0.01, 1e-4])


def test_sgd_with_l2_matches_pytorch_sgd_weight_decay():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start, gradients = rng.normal(size=(3, 4)), rng.normal(size=(5, 3, 4))
    weight = torch.tensor(start, requires_grad=True)
    reference = torch.optim.SGD([weight], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)
    variable = keras.Variable(start.astype("float64"), dtype="float64")
    optimizer = SGDWithL2(l2=0.05, learning_rate=0.1, momentum=0.9, nesterov=True)
    for gradient in gradients:
        weight.grad = torch.tensor(gradient)
        reference.step()
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradient), variable)])
    # Keras keeps the learning rate in float32: agreement to float32 precision.
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), weight.detach().numpy(), rtol=1e-6)
    decoupled = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)
    other = keras.Variable(start.astype("float64"), dtype="float64")
    for gradient in gradients:
        decoupled.apply_gradients([(keras.ops.convert_to_tensor(gradient), other)])
    assert np.abs(keras.ops.convert_to_numpy(other) - weight.detach().numpy()).max() > 1e-3
    with pytest.raises(ValueError, match="Received: l2=-1"):
        SGDWithL2(l2=-1)


def test_sgd_with_l2_round_trips_through_keras_file(tmp_path):
    model = small_model()
    model.compile(optimizer=SHORT.optimizer(steps_per_epoch=7), loss="sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(loaded.optimizer, SGDWithL2) and loaded.optimizer.l2 == SHORT.weight_decay


def test_a_model_that_fit_saved_loads_in_a_fresh_process(tmp_path):
    """A fresh `robust-cli benchmark` or `predict` has not imported `keras_robust.training`: loading must not need
    it."""
    import subprocess
    import sys

    model = small_model()
    model.compile(optimizer=SHORT.optimizer(steps_per_epoch=7), loss="sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)
    model.save(tmp_path / "last.keras")
    code = ("import sys; from keras_robust.models import load_model; m = load_model(sys.argv[1]); "
            "assert 'keras_robust.training' not in sys.modules; print(type(m.optimizer).__name__, m.optimizer.l2)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "last.keras")], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.split() == ["SGDWithL2", str(SHORT.weight_decay)], done.stderr[-2000:]


def test_augmentation_is_a_shifted_window_maybe_flipped():
    images = tf.constant(np.random.default_rng(0).integers(1, 256, (64, 8, 8, 3)), tf.int32)
    out = augment_batch(images, tf.constant([1, 2], tf.int64)).numpy()
    np.testing.assert_array_equal(out, augment_batch(images, tf.constant([1, 2], tf.int64)).numpy())
    padded = np.pad(images.numpy(), [(0, 0), (4, 4), (4, 4), (0, 0)])
    windows = {(dy, dx, flip) for dy in range(9) for dx in range(9) for flip in (False, True)}
    seen = set()
    for image, source in zip(out, padded):
        matches = [(dy, dx, f) for dy, dx, f in windows
                   if np.array_equal(image, (lambda w: w[:, ::-1] if f else w)(source[dy:dy + 8, dx:dx + 8]))]
        assert matches, "an augmented image is not a window of the padded image"
        seen.update(matches)
    assert {f for _, _, f in seen} == {False, True}
    assert len({(dy, dx) for dy, dx, _ in seen}) > 20


def test_pipeline_covers_each_epoch_once_and_resumes_in_order():
    images = np.arange(10, dtype="uint8").reshape(10, 1, 1, 1) * np.ones((1, 4, 4, 1), "uint8")
    labels = np.arange(10)
    full = [(x.numpy(), y.numpy()) for x, y in training_dataset(images, labels, 4, epochs=3, seed=5)]
    assert len(full) == 3 * steps_per_epoch(10, 4) == 9
    for epoch in range(3):
        assert sorted(np.concatenate([y for _, y in full[3 * epoch:3 * epoch + 3]])) == list(range(10))
    assert not np.array_equal(full[0][1], full[3][1])  # a new permutation each epoch
    resumed = list(training_dataset(images, labels, 4, epochs=3, seed=5, start_epoch=2))
    for (x, y), (rx, ry) in zip(full[6:], resumed):
        np.testing.assert_array_equal(y, ry.numpy())
        np.testing.assert_array_equal(x[:, 0, 0, 0], y)
    with pytest.raises(ValueError, match="one integer per image"):
        training_dataset(images, labels[:3], 4, epochs=1, seed=0)


def test_short_lenet_run_on_real_mnist_learns(mnist, tmp_path):
    from keras_robust.applications import LeNetA

    images, labels = mnist
    # The paper's lr 0.1 is unstable for LeNet-A on 2,000 digits (docs/tutorials/training.md); 0.01 is not.
    recipe = dataclasses.replace(RECIPES["lenet"], batch_size=32, learning_rate=0.01)
    run = fit(LeNetA, (images[:2000], labels[:2000]), recipe, tmp_path, epochs=3, seed=0, verbose=0,
              validation=(images[-2000:], labels[-2000:]))
    model, rows = run.model, run.history
    _, accuracy = model.evaluate(images[-2000:], labels[-2000:], verbose=0)
    assert accuracy > 0.90
    assert [row["epoch"] for row in rows] == [0, 1, 2] and rows[-1]["val_accuracy"] == pytest.approx(accuracy)
    assert [row["learning_rate"] for row in rows] == pytest.approx([0.01, 0.001, 1e-4])
    best = keras.saving.load_model(tmp_path / "best.keras", safe_mode=True)
    assert best.evaluate(images[-2000:], labels[-2000:], verbose=0)[1] == pytest.approx(
        max(row["val_accuracy"] for row in rows))
    assert run.recipe == recipe.shortened(3) and run.output_dir == str(tmp_path) and run.last == rows[-1]
    saved = run.save(tmp_path / "result.json")
    again = TrainingResult.load(saved)
    assert again.history == rows and again.recipe == run.recipe and again.model is None
    assert run.to_markdown().count("\n|") == 2 + len(rows) and run.to_csv().splitlines()[0].startswith("epoch,")


class Interrupt(keras.callbacks.Callback):
    """Stands for a kill after `epoch` finished (the checkpoint callback runs first)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


class EpochsSeen(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


def test_resume_after_interruption_equals_uninterrupted_run(mnist, tmp_path):
    images, labels = mnist
    train = (images[:500], labels[:500])
    steps = steps_per_epoch(500, SHORT.batch_size)
    common = dict(epochs=4, seed=3, verbose=0, validation=(images[-300:], labels[-300:]))
    first = fit(small_model, train, SHORT, tmp_path / "a", **common)
    uninterrupted, full_rows = first.model, first.history

    with pytest.raises(KeyboardInterrupt):
        fit(small_model, train, SHORT, tmp_path / "b", callbacks=[Interrupt(1)], **common)
    saved = load_state(tmp_path / "b")
    assert saved["epoch"] == 2 and len(read_log(tmp_path / "b")) == 2
    iterations = [a for v, a in zip(uninterrupted.optimizer.variables, saved["optimizer"]) if v.name == "iteration"]
    assert iterations == [2 * steps]

    seen = EpochsSeen()
    second = fit(small_model, train, SHORT, tmp_path / "b", callbacks=[seen], **common)
    resumed, rows = second.model, second.history
    assert seen.epochs == [2, 3]
    assert int(resumed.optimizer.iterations) == 4 * steps
    for expected, actual in zip(state_arrays(uninterrupted), state_arrays(resumed), strict=True):
        np.testing.assert_array_equal(actual, expected)
    without_time = [[{k: v for k, v in row.items() if k != "seconds"} for row in run] for run in (full_rows, rows)]
    assert without_time[0] == without_time[1]

    with pytest.raises(ValueError, match="holds the checkpoint of another run"):
        fit(small_model, train, SHORT, tmp_path / "b", **{**common, "seed": 4})


def test_seed_makes_a_cpu_run_repeatable(mnist, tmp_path):
    images, labels = mnist
    train = (images[:256], labels[:256])
    runs = [fit(small_model, train, SHORT, tmp_path / str(i), epochs=1, seed=seed, verbose=0).model
            for i, seed in enumerate((7, 7, 8))]
    first, again, other = (state_arrays(model) for model in runs)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_one_device_mirrored_strategy_trains_like_the_default(mnist, tmp_path):
    images, labels = mnist
    train = (images[:256], labels[:256])
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    mirrored_run = fit(small_model, train, SHORT, tmp_path / "m", epochs=2, seed=1, verbose=0, distribute=strategy)
    plain_run = fit(small_model, train, SHORT, tmp_path / "p", epochs=2, seed=1, verbose=0)
    (mirrored, rows), (plain, plain_rows) = [(run.model, run.history) for run in (mirrored_run, plain_run)]
    assert isinstance(mirrored.trainable_variables[0].value, tf.distribute.DistributedValues)
    assert mirrored.optimizer.iterations.numpy() == 2 * steps_per_epoch(256, SHORT.batch_size)
    for a, b in zip(state_arrays(mirrored), state_arrays(plain), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert (tmp_path / "m" / "last.keras").exists() and len(rows) == len(plain_rows) == 2


def test_distribute_names_are_checked(monkeypatch):
    from keras_robust.training import distribution_strategy

    with pytest.raises(ValueError, match="Received: distribute='tpu'"):
        distribution_strategy("tpu")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribution_strategy("multiworker")


def test_only_the_chief_writes():
    from keras_robust.training.trainer import is_chief

    def task(cluster, task_type, task_id):
        spec = tf.train.ClusterSpec(cluster)
        return tf.distribute.cluster_resolver.SimpleClusterResolver(spec, task_type=task_type, task_id=task_id)

    workers = {"worker": ["a:1", "b:1"]}
    assert is_chief(None) and is_chief(tf.distribute.get_strategy().cluster_resolver)
    assert is_chief(task(workers, "worker", 0)) and not is_chief(task(workers, "worker", 1))
    with_chief = {"chief": ["c:1"], **workers}
    assert is_chief(task(with_chief, "chief", 0)) and not is_chief(task(with_chief, "worker", 0))


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_cli_trains_resumes_and_finishes(mnist, tmp_path):
    images, labels = mnist
    data = tmp_path / "digits.npz"
    np.savez(data, images=images[:300], labels=labels[:300])
    out = tmp_path / "run"
    args = ("train", "--model", "LeNetA", "--dataset", data, "--no-validation", "--epochs", 2, "--batch-size", 100,
            "--learning-rate", 0.01, "--seed", 0, "--output", out, "--quiet")
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "300 training images, 0 validation images, recipe lenet (2 epochs)" in result.output
    assert {p.name for p in out.iterdir()} == {"checkpoint.npz", "last.keras", "best.keras", "log.csv"}
    assert [row["epoch"] for row in read_log(out)] == [0, 1]
    again = invoke(*args)  # already finished: nothing to train, the same history
    assert again.exit_code == 0 and "done: 2 epochs" in again.output
    assert load_state(out)["epoch"] == 2
    # a folder holding another program's log.csv (no checkpoint of ours) is refused, untouched, unless --overwrite
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "log.csv").write_text("step,value\n1,2\n")
    args = (*args[:-3], "--output", foreign, "--quiet")
    refused = invoke(*args)
    assert refused.exit_code == 1 and "Traceback" not in refused.output and "--overwrite" in refused.output
    assert (foreign / "log.csv").read_text() == "step,value\n1,2\n" and not (foreign / "last.keras").exists()
    replaced = invoke(*args, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert [row["epoch"] for row in read_log(foreign)] == [0, 1]
    (foreign / "checkpoint.npz").unlink()
    (foreign / "log.csv").write_text("epoch,loss\n0,oops\n")
    with pytest.raises(ValueError, match="not a training log"):
        read_log(foreign)


def test_cli_errors_are_one_line(tmp_path):
    result = invoke("train", "--model", "NoSuchNet", "--dataset", "mnist")
    assert result.exit_code == 2 and "unknown model 'NoSuchNet'" in result.output and "ResNet20" in result.output
    result = invoke("train", "--model", "ResNet20", "--dataset", "cifar10", "--data-dir", tmp_path, "--output", tmp_path / "r")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "is not prepared" in result.output and "--download" in result.output
    assert not (tmp_path / "r").exists()


def test_cli_refuses_validation_folders_of_other_classes(tmp_path):
    from PIL import Image

    for folder, names in (("train", ("cat", "dog")), ("check", ("cat", "fox"))):  # same count, other classes
        for name in names:
            (tmp_path / folder / name).mkdir(parents=True)
            Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / folder / name / "0.png")
    result = invoke("train", "--model", "LeNetA", "--dataset", tmp_path / "train", "--validation",
                    tmp_path / "check", "--output", tmp_path / "r")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Received: training ['cat', 'dog'], validation ['cat', 'fox']" in result.output
    assert not (tmp_path / "r").exists()


def test_cli_run_killed_with_sigkill_resumes_exactly(mnist, tmp_path):
    images, labels = mnist
    data = tmp_path / "digits.npz"
    np.savez(data, images=images[:600], labels=labels[:600])
    args = ["train", "--model", "LeNetA", "--dataset", data, "--no-validation", "--epochs", 12, "--batch-size", 100,
            "--learning-rate", 0.01, "--seed", 0, "--quiet"]
    killed = tmp_path / "killed"
    command = [sys.executable, "-c", "from keras_robust.cli.main import cli; cli()", *map(str, args), "--output",
               str(killed)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while (load_state(killed) or {"epoch": 0})["epoch"] < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "the training process made no progress"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished_before_kill = load_state(killed)["epoch"]
    assert 2 <= finished_before_kill < 12, "the kill came too late to interrupt the run"

    assert invoke(*args, "--output", killed).exit_code == 0
    assert invoke(*args, "--output", tmp_path / "whole").exit_code == 0
    assert [row["epoch"] for row in read_log(killed)] == list(range(12))
    resumed, whole = (keras.saving.load_model(tmp_path / run / "last.keras") for run in ("killed", "whole"))
    for a, b in zip(resumed.weights + resumed.optimizer.variables, whole.weights + whole.optimizer.variables,
                    strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_the_cosine_recipe_warms_up_then_decays_to_zero_step_by_step():
    from keras_robust.cli.train import RECIPE_NAMES

    assert RECIPE_NAMES == list(RECIPES)
    recipe = RECIPES["resnet-cosine"]
    assert (recipe.epochs, recipe.warmup_epochs, recipe.decay, recipe.learning_rate) == (30, 2, "cosine", 0.1)
    schedule = recipe.schedule(steps_per_epoch=10)
    for epoch in (0, 1, 2, 16, 29):
        assert float(schedule(epoch * 10)) == pytest.approx(recipe.learning_rate_at(epoch), abs=1e-6)
    assert float(schedule(10)) == pytest.approx(0.05)  # halfway through the warm-up
    assert float(schedule(300)) == pytest.approx(0.0, abs=1e-7)
    assert recipe.shortened(1).warmup_epochs == 0 and recipe.shortened(5).warmup_epochs == 2
    with pytest.raises(ValueError, match="decay"):
        dataclasses.replace(recipe, decay="linear")
