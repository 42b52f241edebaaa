"""Builders, their registry and records, to_push_pull and weight loading of keras_robust.applications."""

import dataclasses
import inspect

import keras
import numpy as np
import pytest

from keras_robust import applications
from keras_robust.applications import (
    BUILDERS,
    WEIGHTS,
    AlexNetCIFAR,
    DenseNet40_12,
    DenseNet100_24,
    LeNet,
    LeNetA,
    LeNetPA,
    ResNet20,
    ResNet20PP,
    ResNet32,
    list_models,
    load_torch_checkpoint,
    to_push_pull,
)
from keras_robust.applications import model_builder
from keras_robust.applications.push_pull_conversion import select_convolutions
from keras_robust.applications.pretrained import WEIGHTS_DIR
from keras_robust.layers import PushPull2D

RNG = np.random.default_rng(0)
CIFAR_BATCH = RNG.integers(0, 256, size=(4, 32, 32, 3)).astype("uint8")


def first_layer_of_type(model, cls):
    return next(layer for layer in model.layers if isinstance(layer, cls))


def test_builders_are_exported_under_their_names():
    from keras_robust.model_names import MODEL_NAMES

    assert set(BUILDERS) <= set(applications.__all__)
    assert tuple(BUILDERS) == MODEL_NAMES  # the names robust-cli checks before Keras loads are the registry's
    for name, builder in BUILDERS.items():
        assert builder.__name__ == name
        assert getattr(applications, name) is builder


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builders_show_the_keras_applications_signature_and_document_it(name):
    builder = BUILDERS[name]
    parameters = inspect.signature(builder).parameters
    assert list(parameters)[:8] == [*model_builder.APPLICATION_ARGUMENTS, "name"]
    shipped = name in list_models(pretrained=True)
    assert parameters["weights"].default == ("cifar10" if shipped else None)
    assert ("alpha" in parameters and "trainable_alpha" in parameters) == ("PP" in name or name.startswith("LeNetP"))
    doc = inspect.getdoc(builder)
    head, example = doc.split("Example:")
    for parameter in parameters:
        assert f"\n    {parameter}: " in head, parameter
    assert f"from keras_robust.applications import {name}" in example


def test_resnet20pp_is_the_pretrained_model():
    record = WEIGHTS["ResNet20PP.cifar10"]
    explicit = ResNet20PP(weights=None)
    load_torch_checkpoint(explicit, record.path)
    default = ResNet20PP()
    np.testing.assert_array_equal(default.predict(CIFAR_BATCH, verbose=0), explicit.predict(CIFAR_BATCH, verbose=0))
    random = ResNet20PP(weights=None).get_layer("fc").kernel.numpy()
    assert not np.array_equal(random, default.get_layer("fc").kernel.numpy())


def test_a_weights_file_with_another_sha256_is_refused(monkeypatch):
    record = WEIGHTS["ResNet20.cifar10"]
    monkeypatch.setitem(WEIGHTS, record.key, dataclasses.replace(record, sha256="0" * 64))
    with pytest.raises(ValueError, match=f"resnet_20.npz of ResNet20.cifar10 is corrupt.*its SHA-256 is {record.sha256}"):
        ResNet20()
    monkeypatch.setitem(WEIGHTS, record.key, dataclasses.replace(record, file="missing.npz"))
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        ResNet20()


def test_records_hold_what_the_models_use():
    assert {record.model for record in WEIGHTS.values()} == set(list_models(pretrained="cifar10"))
    for key, record in WEIGHTS.items():
        assert key == f"{record.model}.cifar10" and record.verified_path() == WEIGHTS_DIR / record.file
        assert (record.mean, record.std) == (model_builder.CIFAR_MEAN, model_builder.CIFAR_STD)
        assert record.classes == len(record.class_names) == 10 and record.class_names[0] == "airplane"
        assert record.recipe == ("resnet" if record.model.startswith("ResNet") else "densenet")
        assert 0.9 < record.published_top1 < 1 and 0.75 < record.measured_top1 < record.published_top1


def test_new_pretrained_weights_are_one_record_and_their_file(tmp_path, monkeypatch):
    """CONTRIBUTING.md's "Adding pretrained weights": a record in `WEIGHTS` and its `.npz`, no other file."""
    import hashlib
    import json

    from click.testing import CliRunner

    from keras_robust.cli.main import cli
    from keras_robust.export import METADATA
    from keras_robust.models import class_names, pretrained_record, resolve_model

    rng = np.random.default_rng(0)
    state = dict(np.load(WEIGHTS["ResNet20.cifar10"].path))
    state["fc.weight"], state["fc.bias"] = rng.normal(size=(3, 64)).astype("float32"), np.zeros(3, "float32")
    path = tmp_path / "resnet_20_toy.npz"
    np.savez(path, **state)
    record = dataclasses.replace(
        WEIGHTS["ResNet20.cifar10"], name="toy", file=str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        classes=3, class_names=("ant", "bee", "cow"), mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3),
        input_shape=(24, 24, 3),
    )
    monkeypatch.setitem(WEIGHTS, record.key, record)

    model = ResNet20(weights="toy")
    assert model.input_shape == (None, 24, 24, 3) and model.output_shape == (None, 3)
    normalization = model.get_layer("normalization")
    np.testing.assert_allclose(np.ravel(normalization.mean), record.mean, rtol=1e-6)
    np.testing.assert_allclose(np.ravel(normalization.variance), np.square(record.std), rtol=1e-6)
    np.testing.assert_array_equal(model.get_layer("fc").kernel.numpy(), state["fc.weight"].T)
    images = rng.uniform(0, 255, (2, 24, 24, 3)).astype("float32")
    np.testing.assert_array_equal(resolve_model("resnet20", weights="toy")(images), model(images))
    assert ResNet20().output_shape == (None, 10)  # the default weights are untouched
    assert list_models(pretrained="toy") == ["ResNet20"] and "ResNet20" in list_models(pretrained=True)
    assert pretrained_record("ResNet20", "toy") == record
    assert class_names(record, 3) == class_names("toy", 3) == ["ant", "bee", "cow"]
    with pytest.raises(ValueError, match="needs classes=3"):
        ResNet20(weights="toy", classes=10)
    with pytest.raises(ValueError, match="no pretrained weights='toy' for ResNet32"):
        ResNet32(weights="toy")

    target = tmp_path / "exported"
    result = CliRunner().invoke(cli, ["export", "--model", "ResNet20", "--weights", "toy", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads((target / METADATA).read_text())["class_names"] == ["ant", "bee", "cow"]


def test_list_models():
    assert list_models() == list(BUILDERS)
    assert list_models("resnet2*") == ["ResNet20", "ResNet20PP"]
    assert list_models(pretrained=True) == list_models(pretrained="cifar10")
    assert set(list_models(pretrained=False)) == set(BUILDERS) - set(list_models(pretrained=True))
    assert "DenseNet100_24" in list_models(pretrained=False) and list_models(pretrained="imagenet") == []
    with pytest.raises(ValueError, match="Received: pretrained=1"):
        list_models(pretrained=1)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_builder_normalizes_inside_and_has_its_first_layer(name):
    model = BUILDERS[name](weights=None, classes=7)
    assert model.output_shape == (None, 7)
    assert (type(model.layers[1]).__name__, type(model.layers[2]).__name__) == (
        "Rescaling",
        "Normalization",
    )
    push_pull_layers = [layer for layer in model.layers if isinstance(layer, PushPull2D)]
    assert len(push_pull_layers) == ("PP" in name or name.startswith("LeNetP"))


@pytest.mark.parametrize("name, shape", [("LeNetPA", (28, 28, 1)), ("ResNet20PP", (32, 32, 3)),
                                         ("AlexNetCIFAR", (32, 32, 3))])
def test_raw_uint8_pixels_give_probabilities(name, shape):
    model = BUILDERS[name]()
    images = RNG.integers(0, 256, size=(2, *shape)).astype("uint8")
    probabilities = np.asarray(model(images))
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, rtol=1e-5)
    # Normalization happens inside: the same pixels as floats give the same output.
    np.testing.assert_allclose(np.asarray(model(images.astype("float32"))), probabilities, atol=1e-6)


@pytest.mark.parametrize(
    "builder, features",
    [(ResNet20, (8, 8, 64)), (DenseNet40_12, (8, 8, 132)), (DenseNet100_24, (8, 8, 678))],
)
def test_include_top_false_gives_the_feature_map(builder, features):
    assert builder(weights=None, include_top=False).output_shape == (None, *features)


def test_include_top_false_with_pooling():
    assert ResNet20(include_top=False, pooling="avg").output_shape == (None, 64)
    model = ResNet20(weights=None, include_top=False, pooling="max")
    assert model.output_shape == (None, 64)
    assert isinstance(model.layers[-1], keras.layers.GlobalMaxPooling2D)


def test_input_tensor_and_input_shape():
    inputs = keras.Input((32, 32, 3))
    model = ResNet20PP(weights=None, input_tensor=inputs, classes=3)
    assert model.inputs[0] is inputs and model.output_shape == (None, 3)
    assert ResNet20(weights=None, input_shape=(64, 48, 3), include_top=False).output_shape == (None, 16, 12, 64)
    assert LeNet("PD", input_shape=(32, 32, 3)).output_shape == (None, 10)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(weights="imagenet"), ValueError, "Received: weights='imagenet'"),
        (dict(weights="missing.weights.h5"), FileNotFoundError, "missing.weights.h5"),
        (dict(weights="cifar10", classes=100), ValueError, "classes=100"),
        (dict(weights="cifar10", input_shape=(32, 32, 1)), ValueError, "3 input channels"),
        (dict(pooling="mean"), ValueError, "Received: pooling='mean'"),
        (dict(classes=0), ValueError, "Received: classes=0"),
        (dict(input_shape=(32, 32)), ValueError, "Received: input_shape=(32, 32)"),
    ],
)
def test_builder_argument_validation(kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        ResNet20(**kwargs)


def test_models_without_shipped_weights_say_so():
    for builder in (DenseNet100_24, applications.DenseNet100_24PP, AlexNetCIFAR):
        with pytest.raises(ValueError, match="no pretrained weights='cifar10'"):
            builder(weights="cifar10")
    with pytest.raises(ValueError, match="variant='E'"):
        LeNet("E")
    with pytest.raises(ValueError, match="dropout=1.5"):
        AlexNetCIFAR(dropout=1.5)


def test_cifar10_weights_without_top_and_with_h5_round_trip(tmp_path):
    features = ResNet20PP(weights="cifar10", include_top=False, pooling="avg")
    full = ResNet20PP(weights="cifar10")
    np.testing.assert_array_equal(
        features.get_layer("conv1").kernel.numpy(), full.get_layer("conv1").kernel.numpy()
    )
    path = str(tmp_path / "resnet20pp.weights.h5")
    full.save_weights(path)
    reloaded = ResNet20PP(weights=path)
    np.testing.assert_allclose(
        reloaded.predict(CIFAR_BATCH, verbose=0), full.predict(CIFAR_BATCH, verbose=0), atol=1e-6
    )


def test_mismatched_checkpoints_name_the_first_bad_tensor():
    resnet20 = str(WEIGHTS_DIR / "resnet_20.npz")
    with pytest.raises(ValueError, match=r"no tensor 'layer1\.3\.conv1\.weight'"):
        load_torch_checkpoint(ResNet32(weights=None), resnet20)
    with pytest.raises(ValueError, match=r"no tensor 'conv1\.push\.weight'"):
        load_torch_checkpoint(ResNet20PP(weights=None), resnet20)
    with pytest.raises(ValueError, match=r"no layer for, first 'layer1\.3\.conv1\.weight'"):
        load_torch_checkpoint(ResNet20(weights=None), str(WEIGHTS_DIR / "resnet_32.npz"))
    with pytest.raises(ValueError, match=r"'fc\.weight' .* shape \(10, 64\)"):
        load_torch_checkpoint(ResNet20(weights=None, classes=5), resnet20)
    with pytest.raises(ValueError, match="must be a .npz or a PyTorch"):
        load_torch_checkpoint(ResNet20(weights=None), __file__)


def test_stride_two_convolutions_pad_symmetrically_like_pytorch():
    model = ResNet20(weights=None)
    padding = model.get_layer("layer2_0_conv1_pad")
    assert padding.padding == ((1, 1), (1, 1))
    assert model.get_layer("layer2_0_conv1").padding == "valid"
    assert model.get_layer("layer2_0_downsample_0").strides == (2, 2)
    batch_norm = model.get_layer("bn1")
    assert (batch_norm.epsilon, batch_norm.momentum) == (1e-5, 0.9)


def test_lenet_variants_follow_table_1():
    expected = {"A": (6, 16, 128, 64), "B": (6, 8, 64, 32), "C": (4, 16, 128, 64), "D": (4, 8, 64, 32)}
    for variant, (conv1, conv2, fc1, fc2) in expected.items():
        for prefix in ("", "P"):
            model = LeNet(prefix + variant)
            first = model.get_layer("conv1")
            assert isinstance(first, PushPull2D) == (prefix == "P")
            assert first.filters == conv1 and tuple(first.kernel_size) == (5, 5)
            assert model.get_layer("conv2").filters == conv2
            assert [model.get_layer(f"fc{i}").units for i in (1, 2)] == [fc1, fc2]
            assert model.get_layer("flatten").output.shape[-1] == 25 * conv2
            # Table 1: the P variants differ from their twins by the first layer only.
            assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in LeNetPA().layers)
    assert isinstance(LeNetPA(batch_norm=True).get_layer("bn1"), keras.layers.BatchNormalization)
    assert isinstance(LeNet("A", batch_norm=True).get_layer("bn1"), keras.layers.BatchNormalization)
    with pytest.raises(ValueError, match="Received: batch_norm=1"):
        LeNetPA(batch_norm=1)


def test_push_pull_options_of_the_builders():
    assert (LeNetPA(alpha=0.5, scale=3.0).get_layer("conv1").alpha, LeNetPA(scale=3.0).get_layer("conv1").scale) == (
        0.5, 3.0)
    # The authors' initialisation of a trained alpha: uniform in 0.5 +- 1/sqrt(in * out channels).
    layer = ResNet20PP(weights=None, trainable_alpha=True).get_layer("conv1")
    (alpha,) = [w.numpy().ravel() for w in layer.weights if w.path.endswith("alpha")]
    radius = 1 / np.sqrt(3 * 16)
    assert alpha.shape == (16,) and np.all(np.abs(alpha - 0.5) <= radius) and alpha.std() > radius / 10
    for options in (dict(alpha=0.5), dict(scale=3.0), dict(trainable_alpha=True)):
        with pytest.raises(ValueError, match="build with weights=None to change these options"):
            ResNet20PP(**options)
    assert ResNet20PP(alpha=1.0).get_layer("conv1").alpha == 1.0


def test_alexnet_cifar_follows_appendix_2():
    model = AlexNetCIFAR()
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.kernel_size for layer in convolutions] == [(3, 3)] * 5
    assert convolutions[0].strides == (2, 2)
    assert model.get_layer("fc1").input.shape == (None, 1024)


def test_push_pull_model_saves_and_loads_with_safe_mode(tmp_path):
    model = ResNet20PP(weights="cifar10")
    path = str(tmp_path / "resnet20pp.keras")
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded.get_layer("conv1"), PushPull2D)
    np.testing.assert_allclose(
        loaded.predict(CIFAR_BATCH, verbose=0), model.predict(CIFAR_BATCH, verbose=0), atol=1e-6
    )


def test_to_push_pull_on_keras_resnet50():
    model = keras.applications.ResNet50(weights=None)
    first = to_push_pull(model)
    layer = first.get_layer("conv1_conv")
    assert isinstance(layer, PushPull2D) and (layer.alpha, layer.scale) == (1.0, 2.0)
    np.testing.assert_array_equal(layer.kernel.numpy(), model.get_layer("conv1_conv").kernel.numpy())
    np.testing.assert_array_equal(layer.bias.numpy(), model.get_layer("conv1_conv").bias.numpy())
    assert sum(isinstance(layer, PushPull2D) for layer in first.layers) == 1
    # The stem downsamples before the first stage: the first block is the stem.
    assert [layer.name for layer in select_convolutions(model, "first_block")] == ["conv1_conv"]
    every = to_push_pull(model, "all", alpha=0.5)
    replaced = [layer for layer in every.layers if isinstance(layer, PushPull2D)]
    originals = [
        layer for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D) and layer.kernel_size != (1, 1)
    ]
    assert [layer.name for layer in replaced] == [layer.name for layer in originals]
    assert len(replaced) == 17 and all(layer.alpha == 0.5 for layer in replaced)
    for new, old in zip(replaced, originals):
        np.testing.assert_array_equal(new.kernel.numpy(), old.kernel.numpy())
    assert isinstance(model.get_layer("conv1_conv"), keras.layers.Conv2D)  # unchanged


def test_to_push_pull_reproduces_the_push_pull_resnet():
    push_pull = ResNet20PP(weights="cifar10")
    plain = ResNet20(weights=None)
    plain.set_weights(push_pull.get_weights())
    converted = to_push_pull(plain, "first")
    np.testing.assert_allclose(
        converted.predict(CIFAR_BATCH, verbose=0), push_pull.predict(CIFAR_BATCH, verbose=0), atol=1e-6
    )
    names = [layer.name for layer in select_convolutions(plain, "first_block")]
    assert names == ["conv1"] + [f"layer1_{b}_conv{c}" for b in range(3) for c in (1, 2)]


def test_to_push_pull_nested_models_and_fused_activations():
    inner = keras.Sequential(
        [keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1"),
         keras.layers.Conv2D(4, 1, name="c2")],
        name="inner",
    )
    inputs = keras.Input((16, 16, 3))
    outer = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inner(inputs)))
    converted = to_push_pull(outer, "all")
    new_inner = converted.get_layer("inner")
    fused = new_inner.get_layer("c1")
    assert isinstance(fused, PushPull2D) and fused.get_config()["activation"] == "relu"
    np.testing.assert_array_equal(fused.kernel.numpy(), inner.get_layer("c1").kernel.numpy())
    np.testing.assert_array_equal(
        new_inner.get_layer("c2").kernel.numpy(), inner.get_layer("c2").kernel.numpy()
    )
    assert converted.predict(np.ones((1, 16, 16, 3), "float32"), verbose=0).shape == (1, 4)
    with pytest.raises(ValueError, match="Received: which='last'"):
        to_push_pull(outer, "last")
    dense_only = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no Conv2D"):
        to_push_pull(dense_only)


def test_the_push_pull_method_package_and_the_zoo_share_one_conversion():
    from keras_robust import checkpoint, pushpull
    from keras_robust.applications import push_pull_conversion
    from keras_robust.training import checkpoint as training_checkpoint

    assert pushpull.to_push_pull is to_push_pull is push_pull_conversion.to_push_pull
    assert (pushpull.select_convolutions, pushpull.refusal) == (select_convolutions, push_pull_conversion.refusal)
    assert training_checkpoint.load_state is checkpoint.load_state
    # The zoo's push-pull builders take their options and the layer from the method package.
    layer = ResNet20PP(weights=None, alpha=0.5).get_layer("conv1")
    assert isinstance(layer, PushPull2D) and layer.padding == "same" and layer.alpha == 0.5
    assert pushpull.PAPER_PUSH_PULL == {"alpha": 1.0, "scale": 2.0, "trainable_alpha": False}


def test_model_names_tell_every_model_apart():
    from keras_robust.models import model_names

    small = LeNetA(weights=None)
    assert model_names(["ResNet20", "runs/a/best.keras", small]) == ["ResNet20", "best", small.name]
    assert model_names(["runs/s0/best.keras", "runs/s1/best.keras", "x/s1/last.keras"]) == ["s0/best", "s1/best",
                                                                                          "last"]
    assert model_names(["a/run/best.keras", "b/run/best.keras"]) == ["a/run/best", "b/run/best"]
    for specs, message in [
        (["ResNet20", "ResNet20"], "The same model is given twice: 'ResNet20'"),
        (["a/best.keras", "a/./best.keras"], "given twice: 'a/./best.keras'"),
        ([small, small], "given twice: keras.Model"),
        (["best.keras", "./best.keras"], "given twice"),
        ([small, LeNetA(weights=None, name=small.name)], "would share the name"),
    ]:
        with pytest.raises(ValueError, match=message):
            model_names(specs)


def test_resolve_model_takes_names_keras_files_and_models(tmp_path):
    from keras_robust.models import class_names, pretrained_record, resolve_model, save_model

    pretrained = resolve_model("resnet20PP")
    np.testing.assert_array_equal(pretrained.get_layer("conv1").kernel.numpy(),
                                  ResNet20PP().get_layer("conv1").kernel.numpy())
    small = resolve_model("LeNetPA", weights=None, classes=3, input_shape=(16, 16, 1))
    assert small.output_shape == (None, 3) and small.input_shape == (None, 16, 16, 1)
    assert resolve_model(small) is small
    path = tmp_path / "small.keras"
    save_model(small, path)
    loaded = resolve_model(str(path))
    assert isinstance(loaded.get_layer("conv1"), PushPull2D) and resolve_model(path, weights=None).name == small.name
    for spec, kwargs, message in [
        ("ResNet21", {}, "Expected a .keras file or one of: ResNet20, "),
        (path, dict(weights="cifar10"), "holds its own weights"),
        (small, dict(weights="cifar10"), "holds its own weights"),
        (path, dict(classes=3), "Received: classes=3"),
        (42, {}, "Received: spec=42 of type int"),
        ("AlexNetCIFAR", dict(weights="cifar10"), "no pretrained weights='cifar10' for AlexNetCIFAR"),
    ]:
        with pytest.raises(ValueError, match=message):
            resolve_model(spec, **kwargs)
    with pytest.raises(FileNotFoundError, match="No model file"):
        resolve_model(tmp_path / "missing.keras")
    # Class names come from the record of the weights the name loads.
    assert pretrained_record("resnet20pp") is WEIGHTS["ResNet20PP.cifar10"]
    assert pretrained_record("ResNet20PP", weights=None) is None and pretrained_record(path) is None
    assert class_names(pretrained_record("ResNet20"), 10)[-1] == "truck" and class_names("cifar10", 10)[0] == "airplane"
    assert class_names(None, 2) == ["0", "1"]
