"""SavedModel export, safe .keras loading and the export/predict commands."""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from keras_robust import applications, export
from keras_robust.cli.main import cli
from keras_robust.datasets import CIFAR10_CLASSES
from keras_robust.deepcorrect import build_deepcorrect
from keras_robust.layers import CorrectionUnit, PushPull2D
from keras_robust.models import load_model, resolve_model, save_model

RNG = np.random.default_rng(0)


def push_pull_model():
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = PushPull2D(6, 3, padding="same", trainable_alpha=True, use_bias=True)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(4)(x)
    return keras.Model(inputs, keras.layers.Activation("softmax")(x), name="pp_small")


def correction_unit_model():
    # DeepCorrect-style: correction unit on early maps of a frozen base; the
    # base is a nested model and the whole model ends without softmax.
    base_in = keras.Input((12, 12, 8))
    x = keras.layers.GlobalAveragePooling2D()(base_in)
    base_top = keras.Model(base_in, keras.layers.Dense(5, activation="softmax")(x), name="top")
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3, padding="same")(x)
    x = CorrectionUnit(depth=4, kernel_size=3, stages=2)(x)
    return keras.Model(inputs, base_top(x), name="corrected")


def deepcorrect_model():
    base = applications.ResNet20(weights="cifar10")
    return build_deepcorrect(base, {"layer1_0_conv1": np.arange(16)[::-1]}, 0.5)


def logits_only_model():
    return keras.Sequential(
        [keras.Input((8, 8, 3)), CorrectionUnit(depth=2), keras.layers.Flatten(), keras.layers.Dense(3)],
        name="logits_only",
    )


FAMILIES = {
    "push_pull": push_pull_model,
    "ResNet20PP": lambda: applications.ResNet20PP(weights="cifar10"),
    "DenseNet16_12PP": lambda: applications.DenseNetCIFAR(depth=16, growth_rate=12, push_pull=True),
    "LeNetPA": lambda: applications.LeNetPA(weights=None),
    "DeepCorrect": deepcorrect_model,
    "nested_correction_unit": correction_unit_model,
    "logits_only": logits_only_model,
}


def reference_logits(model):
    """Pre-softmax values computed independently of `export`'s rule."""
    last = model.layers[-1]
    if isinstance(last, keras.Model):  # nested top ending in a softmax Dense
        features = keras.Model(model.input, model.layers[-2].output)
        inner = keras.Model(last.input, last.layers[-1].input)
        dense = last.layers[-1]
        return lambda x: inner(features(x)).numpy() @ dense.kernel.numpy() + dense.bias.numpy()
    if isinstance(last, keras.layers.Activation):
        return keras.Model(model.input, last.input).predict_on_batch
    if last.get_config().get("activation") == "softmax":
        features = keras.Model(model.input, last.input)
        return lambda x: features(x).numpy() @ last.kernel.numpy() + last.bias.numpy()
    return lambda x: model(x).numpy()


def images(count, shape):
    return RNG.integers(0, 256, (count, *shape), dtype=np.uint8)


@pytest.fixture(scope="module", params=list(FAMILIES))
def exported(request, tmp_path_factory):
    model = FAMILIES[request.param]()
    path = tmp_path_factory.mktemp("export") / request.param
    export.export_saved_model(model, path)
    return model, path


def test_saved_model_serves_keras_outputs(exported):
    model, path = exported
    shape = model.input_shape[1:]
    to_logits = reference_logits(model)
    loaded = tf.saved_model.load(str(path))
    layer = keras.layers.TFSMLayer(str(path), call_endpoint="serve")
    for batch in (images(5, shape), images(1, shape)):
        probabilities = model(batch.astype("float32")).numpy()
        logits = to_logits(batch.astype("float32"))
        if model.name == "logits_only":
            logits, probabilities = probabilities, tf.nn.softmax(probabilities).numpy()
        for served in (loaded.serve, layer):
            for pixels in (batch, batch.astype("float32")):
                outputs = served(tf.constant(pixels))
                np.testing.assert_allclose(outputs["probabilities"], probabilities, atol=1e-5)
                np.testing.assert_allclose(outputs["logits"], logits, rtol=1e-4, atol=1e-4)
    uint8_signature = loaded.signatures["serving_uint8"]
    outputs = uint8_signature(images=tf.constant(batch))
    np.testing.assert_allclose(outputs["probabilities"], probabilities, atol=1e-5)


def test_keras_file_round_trip_is_exact(exported, tmp_path):
    model, _ = exported
    path = tmp_path / "model.keras"
    save_model(model, path)
    reloaded = load_model(path)
    batch = images(3, model.input_shape[1:]).astype("float32")
    np.testing.assert_array_equal(reloaded(batch), model(batch))
    for saved, original in zip(reloaded.weights, model.weights):
        np.testing.assert_array_equal(saved.numpy(), original.numpy())


def test_failed_export_leaves_nothing(tmp_path, monkeypatch):
    # The metadata is written after the SavedModel itself: failing there
    # leaves a complete SavedModel in the temporary folder, which must go.
    class FailingJson:
        @staticmethod
        def dumps(*args, **kwargs):
            assert any(tmp_path.rglob("saved_model.pb"))
            raise OSError("disk full")

    monkeypatch.setattr(export, "json", FailingJson)
    with pytest.raises(OSError, match="disk full"):
        export.export_saved_model(push_pull_model(), tmp_path / "served")
    assert list(tmp_path.iterdir()) == []


def test_export_refuses_existing_target_unless_overwrite(tmp_path):
    target = tmp_path / "served"
    target.mkdir()
    (target / "keep.txt").write_text("old")
    model = push_pull_model()
    with pytest.raises(FileExistsError, match="already exists"):
        export.export_saved_model(model, target)
    with pytest.raises(ValueError, match="did not write"):  # a folder it did not make is never replaced
        export.export_saved_model(model, target, overwrite=True)
    assert (target / "keep.txt").read_text() == "old"
    ours = tmp_path / "ours"
    export.export_saved_model(model, ours)
    (ours / "keep.txt").write_text("old")
    export.export_saved_model(model, ours, overwrite=True)  # its own earlier export is replaced
    assert not (ours / "keep.txt").exists()
    assert (ours / "saved_model.pb").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ours", "served"]


def test_export_rejects_non_classifiers():
    inputs = keras.Input((8, 8, 3))
    features = keras.Model(inputs, keras.layers.Conv2D(2, 3)(inputs))
    with pytest.raises(ValueError, match=r"output is \(batch, classes\)"):
        export.export_saved_model(features, "unused")


def write_png(path, pixels):
    path.write_bytes(tf.io.encode_png(pixels).numpy())


def run_cli(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args])


@pytest.fixture(scope="module")
def cli_export(tmp_path_factory):
    target = tmp_path_factory.mktemp("cli") / "resnet20pp"
    result = run_cli("export", "--model", "ResNet20PP", "-o", target)  # the README's command: default weights
    assert result.exit_code == 0, result.output
    return target


def test_cli_export_refuses_existing_target(cli_export):
    result = run_cli("export", "--model", "ResNet20PP", "-o", cli_export)
    assert result.exit_code == 1
    assert "already exists" in result.output and "Traceback" not in result.output
    metadata = json.loads((cli_export / export.METADATA).read_text())
    assert metadata["class_names"] == list(CIFAR10_CLASSES)


def test_cli_predict_prints_top_k(cli_export, tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    small, large = images(2, (32, 32, 3)), images(1, (48, 40, 3))
    write_png(folder / "a.png", small[0])
    write_png(folder / "b.png", small[1])
    write_png(tmp_path / "big.png", large[0])
    result = run_cli("predict", "--model", cli_export, folder, tmp_path / "big.png", "--top-k", "2",
                     "--trust-saved-model")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if not line.startswith("note:")]
    assert len(lines) == 3
    assert "big.png resized to 32x32" in result.output

    model = applications.ResNet20PP(weights="cifar10")
    resized = tf.image.resize(large, (32, 32), antialias=True).numpy().round().clip(0, 255)
    probabilities = model(np.concatenate([small, resized]).astype("float32")).numpy()
    for line, row in zip(lines, probabilities):
        best = np.argsort(-row)[:2]
        expected = ", ".join(f"{CIFAR10_CLASSES[i]} {row[i]:.3f}" for i in best)
        assert line.split(": ", 1)[1] == expected


def test_cli_predict_with_keras_file_and_labels(tmp_path):
    model = logits_only_model()
    save_model(model, tmp_path / "m.keras")
    (tmp_path / "labels.txt").write_text("red\ngreen\nblue\n")
    pixels = images(1, (8, 8, 3))
    write_png(tmp_path / "x.png", pixels[0])
    result = run_cli("predict", "--model", tmp_path / "m.keras", tmp_path / "x.png", "-k", "1", "--labels",
                     tmp_path / "labels.txt")
    assert result.exit_code == 0, result.output
    best = int(np.argmax(model(pixels.astype("float32"))))
    assert result.output.split(": ")[1].split()[0] == ["red", "green", "blue"][best]


def lambda_model_file(path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    model.save(path)


def unknown_class_file(path):
    @keras.saving.register_keras_serializable(package="test_export_only")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    inputs = keras.Input((4,))
    keras.Model(inputs, Doubler()(inputs)).save(path)
    del keras.saving.get_custom_objects()["test_export_only>Doubler"]


def truncated_file(path):
    save_model(logits_only_model(), path)
    path.write_bytes(path.read_bytes()[:-300])


def corrupt_file(path):
    save_model(logits_only_model(), path)
    with zipfile.ZipFile(path) as archive:
        offset = archive.getinfo("model.weights.h5").header_offset + 200
    data = bytearray(path.read_bytes())
    data[offset : offset + 16] = bytes(16)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda_model_file, "Lambda layer"),
        (unknown_class_file, "Could not locate class 'Doubler'"),
        (truncated_file, "truncated or corrupt"),
        (corrupt_file, "truncated or corrupt"),
    ],
    ids=["lambda", "unknown_class", "truncated", "corrupt"],
)
def test_unsafe_or_broken_keras_files_are_refused(make, message, tmp_path):
    path = tmp_path / "bad.keras"
    make(path)
    with pytest.raises(ValueError, match=message):
        load_model(path)
    write_png(tmp_path / "x.png", images(1, (8, 8, 3))[0])
    for args in (("predict", "--model", path, tmp_path / "x.png"), ("export", "--model", path, "-o", tmp_path / "out")):
        result = run_cli(*args)
        assert result.exit_code == 1
        assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_resolve_model_names_what_it_accepts(tmp_path):
    assert resolve_model("resnet20").name == applications.ResNet20().name
    with pytest.raises(ValueError, match="Expected a .keras file or one of: .*ResNet20PP"):
        resolve_model("ResNet21")
    save_model(logits_only_model(), tmp_path / "m.keras")
    with pytest.raises(ValueError, match="holds its own weights"):
        resolve_model(tmp_path / "m.keras", weights="cifar10")
    with pytest.raises(FileNotFoundError, match="No model file"):
        resolve_model(tmp_path / "missing.keras")
