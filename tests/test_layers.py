"""One harness for every registered Keras object in keras_robust.layers.

Each layer is checked for: a complete config that round-trips, a `.keras`
round trip with `safe_mode=True` and equal outputs, the `mixed_float16`
policy, `channels_first` where the layer takes a `data_format`, and the same
output on the TensorFlow, JAX and PyTorch backends (one subprocess each).
A registered layer without a case here fails `test_every_registered_layer_has_a_case`.
"""

import inspect
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_robust.layers
from keras_robust.layers import ChannelCorrection, CorrectionUnit, PushPull2D, StabilityRegularizer


def _image(shape):
    return lambda rng: [rng.normal(size=shape).astype("float32")]


def _probabilities(rng):
    logits = rng.normal(size=(2, 2, 5))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return list(p.astype("float32"))


# id -> (factory of a layer with non-default arguments, inputs from a NumPy Generator)
CASES = {
    "push_pull": (
        lambda: PushPull2D(
            5, (3, 5), strides=2, padding="same", activation="relu", use_bias=True,
            bias_initializer="random_normal", kernel_initializer="he_normal",
            kernel_regularizer=keras.regularizers.L2(1e-4), bias_regularizer=keras.regularizers.L1(1e-5),
            activity_regularizer=keras.regularizers.L2(1e-6), kernel_constraint=keras.constraints.MaxNorm(3.0),
            bias_constraint=keras.constraints.NonNeg(), alpha=0.7, scale=2.5, trainable_alpha=True,
            alpha_initializer="ones", pull_pool_size=3, name="layer",
        ),
        _image((2, 9, 10, 4)),
    ),
    "push_pull_grouped_inverted": (
        lambda: PushPull2D(
            4, 3, padding="valid", dilation_rate=2, groups=2, pull_kernel="inverted", alpha=1.5, name="layer",
        ),
        _image((2, 11, 9, 4)),
    ),
    "push_pull_scale_one": (
        lambda: PushPull2D(3, 2, padding="same", scale=1.0, data_format="channels_last", name="layer"),
        _image((2, 7, 7, 2)),
    ),
    "correction_unit": (
        lambda: CorrectionUnit(depth=3, kernel_size=3, stages=2, l1=1e-4, start="he_normal",
                               name="layer"),
        _image((2, 6, 6, 5)),
    ),
    "correction_unit_rank": (
        lambda: CorrectionUnit(depth=4, kernel_size=3, stages=3, rank=2, kernel_initializer="glorot_uniform",
                               name="layer"),
        _image((2, 6, 6, 5)),
    ),
    "channel_correction": (
        lambda: ChannelCorrection([3, 0], CorrectionUnit(depth=2, stages=1), name="layer"),
        _image((2, 5, 5, 4)),
    ),
    "stability_regularizer": (lambda: StabilityRegularizer(0.05, name="layer"), _probabilities),
}


def _registered_layer_classes():
    return {
        obj for name, obj in keras.saving.get_custom_objects().items()
        if name.startswith("keras_robust>") and inspect.isclass(obj)
        and issubclass(obj, keras.layers.Layer) and obj.__module__.startswith("keras_robust.layers")
    }


def test_every_registered_layer_has_a_case():
    exported = {getattr(keras_robust.layers, name) for name in keras_robust.layers.__all__}
    registered = _registered_layer_classes()
    assert registered == exported
    assert {type(factory()) for factory, _ in CASES.values()} == registered


def _inputs(case, seed=0):
    return CASES[case][1](np.random.default_rng(seed))


def _call(layer, inputs):
    out = layer(inputs if len(inputs) > 1 else inputs[0], training=False)
    return keras.ops.convert_to_numpy(out).astype("float32")


def _random_weights(layer, seed):
    """Random values for every weight; positive ones where a variance is expected."""
    rng = np.random.default_rng(seed)
    return [
        (np.abs(rng.normal(size=w.shape)) + 0.5 if "variance" in w.path else rng.normal(0, 0.3, w.shape))
        .astype("float32")
        for w in layer.weights
    ]


def _built(case, seed=1):
    layer = CASES[case][0]()
    inputs = _inputs(case)
    _call(layer, inputs)
    layer.set_weights(_random_weights(layer, seed))
    return layer, inputs


@pytest.mark.parametrize("case", CASES)
def test_config_is_complete_and_round_trips(case):
    layer = CASES[case][0]()
    config = layer.get_config()
    arguments = set(inspect.signature(type(layer).__init__).parameters) - {"self", "kwargs"}
    assert arguments <= set(config), arguments - set(config)
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    json.dumps(keras.saving.serialize_keras_object(layer))  # the config is plain JSON


@pytest.mark.parametrize("case", CASES)
def test_keras_file_round_trip_in_safe_mode(case, tmp_path):
    layer, arrays = _built(case)
    inputs = [keras.Input(a.shape[1:]) for a in arrays]
    model = keras.Model(inputs, layer(inputs if len(inputs) > 1 else inputs[0]))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded.get_layer("layer")) is type(layer)
    np.testing.assert_array_equal(
        loaded.predict(arrays, verbose=0), model.predict(arrays, verbose=0)
    )
    assert np.abs(model.predict(arrays, verbose=0)).max() > 1e-3


@pytest.mark.parametrize("case", CASES)
def test_mixed_precision(case):
    reference, arrays = _built(case)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = CASES[case][0]()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    out = layer(arrays if len(arrays) > 1 else arrays[0], training=False)
    assert layer.compute_dtype == "float16"
    assert all(w.dtype == "float32" for w in layer.weights)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    layer.set_weights(reference.get_weights())
    want = _call(reference, arrays)
    got = _call(layer, arrays)
    np.testing.assert_allclose(got, want, atol=2e-2 * max(1.0, np.abs(want).max()))


DATA_FORMAT_CASES = [
    case for case, (factory, _) in CASES.items()
    if "data_format" in inspect.signature(type(factory()).__init__).parameters
]


# TensorFlow runs NCHW convolutions on GPUs only (keras.layers.Conv2D alike):
# there, channels_first is checked on JAX and PyTorch by the backend test.
def _tensorflow_without_gpu():
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.config.list_physical_devices("GPU")


TF_CPU_ONLY = _tensorflow_without_gpu()


def _channels_first(layer):
    return type(layer).from_config({**layer.get_config(), "data_format": "channels_first"})


def _nchw(x):
    return np.transpose(x, (0, 3, 1, 2))


@pytest.mark.parametrize("case", DATA_FORMAT_CASES)
def test_channels_first_equals_channels_last(case):
    if TF_CPU_ONLY:
        pytest.skip("TensorFlow has no NCHW convolution on CPU; checked on JAX and torch instead")
    last, (x,) = _built(case)
    first = _channels_first(last)
    first.build(_nchw(x).shape)
    first.set_weights(last.get_weights())
    got = _call(first, [_nchw(x)])
    np.testing.assert_allclose(np.transpose(got, (0, 2, 3, 1)), _call(last, [x]), atol=1e-5)


BACKEND_SCRIPT = """
import json, sys
import numpy as np
import keras
import keras_robust.layers
data = np.load(sys.argv[1])
results = {}
for case, config in json.loads(open(sys.argv[2]).read()).items():
    if case.endswith("@channels_first") and keras.backend.backend() == "tensorflow":
        continue  # no NCHW convolution on a TensorFlow CPU
    layer = keras.saving.deserialize_keras_object(config)
    inputs = [data[f"{case}/input_{i}"] for i in range(int(data[f"{case}/inputs"]))]
    layer(inputs if len(inputs) > 1 else inputs[0])
    layer.set_weights([data[f"{case}/weight_{i}"] for i in range(len(layer.weights))])
    out = layer(inputs if len(inputs) > 1 else inputs[0], training=False)
    results[case] = keras.ops.convert_to_numpy(out).astype("float32").tolist()
print(json.dumps({"backend": keras.backend.backend(), "results": results}))
"""


def _backend_cases():
    """(case id, layer, inputs): every case, and a channels_first twin of each `data_format` case."""
    for case in CASES:
        layer, inputs = _built(case)
        yield case, layer, inputs
        if case in DATA_FORMAT_CASES:
            first = _channels_first(layer)
            first.build(_nchw(inputs[0]).shape)
            first.set_weights(layer.get_weights())
            yield f"{case}@channels_first", first, [_nchw(inputs[0])]


def test_same_output_on_tensorflow_jax_and_torch(tmp_path):
    """The other two backends, each in a subprocess, against this process's backend."""
    arrays, configs, reference = {}, {}, {}
    for case, layer, inputs in _backend_cases():
        configs[case] = keras.saving.serialize_keras_object(layer)
        arrays[f"{case}/inputs"] = np.array(len(inputs))
        arrays.update({f"{case}/input_{i}": x for i, x in enumerate(inputs)})
        arrays.update({f"{case}/weight_{i}": w for i, w in enumerate(layer.get_weights())})
        if "@" not in case:
            reference[case] = _call(layer, inputs)
            assert np.abs(reference[case]).max() > 1e-3, case
    np.savez(tmp_path / "case.npz", **arrays)
    (tmp_path / "configs.json").write_text(json.dumps(configs))
    runs = {  # both at once: most of their time is importing the backend
        backend: subprocess.Popen(
            [sys.executable, "-c", BACKEND_SCRIPT, str(tmp_path / "case.npz"), str(tmp_path / "configs.json")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, KERAS_BACKEND=backend, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3"),
        )
        for backend in sorted({"tensorflow", "jax", "torch"} - {keras.backend.backend()})
    }
    for backend, run in runs.items():
        stdout, stderr = run.communicate(timeout=600)
        assert run.returncode == 0, stderr[-3000:]
        result = json.loads(stdout.strip().splitlines()[-1])
        assert result["backend"] == backend
        for case, output in result["results"].items():
            got = np.array(output, dtype="float32")
            if case.endswith("@channels_first"):
                got = np.transpose(got, (0, 2, 3, 1))
            np.testing.assert_allclose(
                got, reference[case.partition("@")[0]], rtol=1e-4, atol=1e-4, err_msg=f"{case} on {backend}"
            )
        assert len(result["results"]) >= len(CASES)
