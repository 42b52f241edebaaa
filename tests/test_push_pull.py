"""PushPull2D against a direct NumPy implementation of the paper's formula."""

import json
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_robust.layers import PushPull2D
from keras_robust.layers.push_pull import pull_kernel_size


def upsample_align_corners(kernel, size):
    """Bilinear resize of a (kh, kw, c, f) kernel, corners aligned, point by point."""
    kh, kw = kernel.shape[:2]
    out = np.zeros((size[0], size[1]) + kernel.shape[2:])
    for i in range(size[0]):
        y = i * (kh - 1) / (size[0] - 1)
        y0 = min(int(math.floor(y)), kh - 2)
        for j in range(size[1]):
            x = j * (kw - 1) / (size[1] - 1)
            x0 = min(int(math.floor(x)), kw - 2)
            dy, dx = y - y0, x - x0
            out[i, j] = (
                (1 - dy) * (1 - dx) * kernel[y0, x0]
                + (1 - dy) * dx * kernel[y0, x0 + 1]
                + dy * (1 - dx) * kernel[y0 + 1, x0]
                + dy * dx * kernel[y0 + 1, x0 + 1]
            )
    return out


def conv_reference(x, kernel, stride, pad, dilation):
    """Cross-correlation of NHWC `x`, explicit ((top, bottom), (left, right)) padding."""
    x = np.pad(x, ((0, 0), pad[0], pad[1], (0, 0)))
    kh, kw = kernel.shape[:2]
    out_h = (x.shape[1] - dilation * (kh - 1) - 1) // stride + 1
    out_w = (x.shape[2] - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[3]))
    for a in range(kh):
        for b in range(kw):
            patch = x[
                :,
                a * dilation : a * dilation + stride * (out_h - 1) + 1 : stride,
                b * dilation : b * dilation + stride * (out_w - 1) + 1 : stride,
            ]
            out += patch @ kernel[a, b]
    return out


def same_padding(size, extent, stride):
    total = max((-(-size // stride) - 1) * stride + extent - size, 0)
    return total // 2, total - total // 2


def push_pull_reference(x, kernel, bias, alpha, scale, stride, padding, dilation):
    """P(I) = ReLU(k * I) - alpha ReLU(k_hat * I), centres of both kernels aligned."""
    s = kernel.shape[0]
    s_hat = pull_kernel_size(s, scale)
    pull = -upsample_align_corners(kernel, (s_hat, s_hat))
    if padding == "same":
        pads = [same_padding(n, dilation * (s - 1) + 1, stride) for n in x.shape[1:3]]
    else:
        pads = [(0, 0), (0, 0)]
    extra = dilation * (s_hat - s) // 2
    pull_pads = [(p0 + extra, p1 + extra) for p0, p1 in pads]
    push_map = conv_reference(x, kernel, stride, pads, dilation) + bias
    pull_map = conv_reference(x, pull, stride, pull_pads, dilation) - bias
    return np.maximum(push_map, 0) - alpha * np.maximum(pull_map, 0)


@pytest.mark.parametrize(
    "kernel_size,strides,padding,dilation,use_bias,alpha,scale",
    [
        (3, 1, "same", 1, False, 1.0, 2.0),
        (3, 2, "same", 1, True, 0.5, 2.0),
        (5, 1, "valid", 1, True, 2.0, 1.5),
        (3, 2, "valid", 1, False, 1.0, 3.0),
        (3, 1, "same", 2, False, 1.0, 2.0),
        (7, 3, "same", 1, True, 1.0, 2.0),
    ],
)
def test_matches_numpy_formula(kernel_size, strides, padding, dilation, use_bias, alpha, scale):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 15, 14, 3)).astype("float32")
    layer = PushPull2D(
        4, kernel_size, strides=strides, padding=padding, dilation_rate=dilation,
        use_bias=use_bias, alpha=alpha, scale=scale, bias_initializer="random_normal",
    )
    got = keras.ops.convert_to_numpy(layer(x))
    bias = layer.bias.numpy() if use_bias else 0.0
    want = push_pull_reference(
        x.astype("float64"), layer.kernel.numpy().astype("float64"), bias,
        alpha, scale, strides, padding, dilation,
    )
    assert got.shape == want.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(got, want, atol=2e-5)


def test_pull_kernel_size_formula():
    assert [pull_kernel_size(3, 2.0), pull_kernel_size(5, 2.0), pull_kernel_size(3, 1.5)] == [7, 11, 5]
    assert pull_kernel_size(3, 2.5) == 7  # floor(7.5) = 7 is odd: kept


def test_inverted_pull_kernel_and_pooling():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 9, 9, 2)).astype("float32")
    layer = PushPull2D(3, 3, padding="same", pull_kernel="inverted", pull_pool_size=3)
    got = keras.ops.convert_to_numpy(layer(x))
    k = layer.kernel.numpy().astype("float64")
    inverted = -k + k.max(axis=(0, 1, 2)) + k.min(axis=(0, 1, 2))
    pads = [(1, 1), (1, 1)]
    push = np.maximum(conv_reference(x, k, 1, pads, 1), 0)
    pull = np.maximum(conv_reference(x, inverted, 1, pads, 1), 0)
    # 3x3 stride-1 average pooling, padding excluded from the count.
    padded = np.pad(pull, ((0, 0), (1, 1), (1, 1), (0, 0)))
    counts = np.pad(np.ones_like(pull), ((0, 0), (1, 1), (1, 1), (0, 0)))
    total = sum(padded[:, a : a + 9, b : b + 9] for a in range(3) for b in range(3))
    count = sum(counts[:, a : a + 9, b : b + 9] for a in range(3) for b in range(3))
    np.testing.assert_allclose(got, push - total / count, atol=2e-5)


def test_gradient_reaches_push_kernel_through_both_paths():
    rng = np.random.default_rng(2)
    x = tf.constant(rng.normal(size=(2, 8, 8, 3)).astype("float32"))
    layer = PushPull2D(4, 3, padding="same")
    layer.build(x.shape)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) ** 2)
    grad = tape.gradient(loss, layer.kernel)
    # The same loss with the pull kernel frozen: only the push path carries gradient.
    with tf.GradientTape() as tape:
        pull = tf.stop_gradient(layer.pull_weights())
        push_map = tf.nn.relu(tf.nn.conv2d(x, layer.kernel, 1, "SAME"))
        pull_map = tf.nn.relu(tf.nn.conv2d(x, pull, 1, "SAME"))
        loss_push_only = tf.reduce_sum((push_map - pull_map) ** 2)
    grad_push_only = tape.gradient(loss_push_only, layer.kernel)
    np.testing.assert_allclose(float(loss), float(loss_push_only), rtol=1e-5)
    assert float(tf.reduce_max(tf.abs(grad))) > 0
    assert float(tf.reduce_max(tf.abs(grad - grad_push_only))) > 1e-3


def test_trainable_alpha_gets_gradient_and_stays_non_negative():
    x = tf.constant(np.random.default_rng(3).normal(size=(2, 8, 8, 3)).astype("float32"))
    layer = PushPull2D(4, 3, padding="same", trainable_alpha=True, alpha=0.5)
    layer.build(x.shape)
    assert [w.name for w in layer.trainable_weights] == ["kernel", "alpha"]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    grad = tape.gradient(loss, layer.alpha_weight)
    assert grad.shape == (4,) and float(tf.reduce_max(tf.abs(grad))) > 0
    layer.alpha_weight.assign([-1.0, 0.0, 1.0, 2.0])
    fixed = PushPull2D(4, 3, padding="same", alpha=0.0)
    fixed.build(x.shape)
    fixed.kernel.assign(layer.kernel)
    # alpha = -1 acts as 0: channel 0 equals the push-only response.
    np.testing.assert_allclose(layer(x)[..., 0], fixed(x)[..., 0], atol=1e-6)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"scale": 1.0}, "scale=1.0"),
        ({"scale": 0.5}, "scale=0.5"),
        ({"alpha": -0.1}, "alpha=-0.1"),
        ({"pull_pool_size": 2}, "pull_pool_size=2"),
        ({"padding": "causal"}, "padding=causal"),
        ({"pull_kernel": "gaussian"}, "pull_kernel=gaussian"),
        ({"filters": 0}, "filters=0"),
        ({"kernel_size": (3, 0)}, "kernel_size=(3, 0)"),
        ({"data_format": "nhwc"}, "data_format=nhwc"),
    ],
)
def test_bad_arguments_name_the_value(kwargs, message):
    arguments = {"filters": 4, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match="Received: " + message.replace("(", r"\(").replace(")", r"\)")):
        PushPull2D(**arguments)


def test_wrong_input_rank():
    with pytest.raises(ValueError, match="4D input"):
        PushPull2D(4, 3).build((8, 8, 3))
    with pytest.raises(ValueError):
        PushPull2D(4, 3)(np.zeros((8, 8, 3), "float32"))


def _model(**layer_kwargs):
    inputs = keras.Input((16, 16, 3))
    x = PushPull2D(6, 3, padding="same", name="pp", **layer_kwargs)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


def test_config_round_trip_is_complete():
    layer = PushPull2D(
        5, (3, 5), strides=2, padding="same", dilation_rate=1, alpha=0.7, scale=2.5,
        trainable_alpha=True, use_bias=True, pull_kernel="upsampled", pull_pool_size=3,
        kernel_initializer="he_normal", kernel_regularizer=keras.regularizers.L2(1e-4),
        kernel_constraint=keras.constraints.MaxNorm(2.0), name="pp",
    )
    config = layer.get_config()
    clone = PushPull2D.from_config(config)
    assert clone.get_config() == config
    import inspect

    arguments = set(inspect.signature(PushPull2D.__init__).parameters) - {"self", "kwargs"}
    assert arguments <= set(config)


def test_keras_file_round_trip_safe_mode(tmp_path):
    model = _model(trainable_alpha=True, use_bias=True)
    x = np.random.default_rng(4).uniform(0, 255, size=(3, 16, 16, 3)).astype("float32")
    path = tmp_path / "pp.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.get_layer("pp"), PushPull2D)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_mixed_precision():
    x = np.random.default_rng(5).normal(size=(2, 16, 16, 3)).astype("float32")
    reference = _model()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = _model()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    model.set_weights(reference.get_weights())
    layer = model.get_layer("pp")
    assert layer.compute_dtype == "float16" and layer.kernel.dtype == "float32"
    out = layer(x)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(out).astype("float32"),
        keras.ops.convert_to_numpy(reference.get_layer("pp")(x)),
        atol=2e-2,
    )


def test_channels_first_equals_channels_last():
    x = np.random.default_rng(6).normal(size=(2, 10, 10, 3)).astype("float32")
    last = PushPull2D(4, 3, strides=2, padding="same")
    first = PushPull2D(4, 3, strides=2, padding="same", data_format="channels_first")
    last.build(x.shape)
    first.build((2, 3, 10, 10))
    first.kernel.assign(last.kernel)
    got = keras.ops.convert_to_numpy(first(np.transpose(x, (0, 3, 1, 2))))
    np.testing.assert_allclose(np.transpose(got, (0, 2, 3, 1)), last(x), atol=1e-5)
    assert first.compute_output_shape((2, 3, 10, 10)) == (2, 4, 5, 5)


BACKEND_SCRIPT = """
import json, sys
import numpy as np
import keras
from keras_robust.layers import PushPull2D
data = np.load(sys.argv[1])
results = {}
for name, kwargs in json.loads(sys.argv[2]).items():
    layer = PushPull2D(4, 3, **kwargs)
    layer.build(data["x"].shape)
    layer.set_weights([data[name + "_" + str(i)] for i in range(len(layer.weights))])
    results[name] = keras.ops.convert_to_numpy(layer(data["x"])).tolist()
print(json.dumps({"backend": keras.backend.backend(), "results": results}))
"""

BACKEND_CASES = {
    "plain": {"padding": "same"},
    "strided_bias": {"strides": 2, "padding": "same", "use_bias": True},
    "valid_alpha": {"padding": "valid", "trainable_alpha": True},
    "inverted_pool": {"padding": "same", "pull_kernel": "inverted", "pull_pool_size": 3},
}


def test_same_output_on_tensorflow_jax_and_torch(tmp_path):
    rng = np.random.default_rng(7)
    arrays = {"x": rng.normal(size=(2, 11, 12, 3)).astype("float32")}
    for name, kwargs in BACKEND_CASES.items():
        layer = PushPull2D(4, 3, **kwargs)
        layer.build(arrays["x"].shape)
        for i, weight in enumerate(layer.weights):
            arrays[f"{name}_{i}"] = rng.normal(size=weight.shape).astype("float32")
    np.savez(tmp_path / "case.npz", **arrays)
    outputs = {}
    for backend in ("tensorflow", "jax", "torch"):
        env = dict(os.environ, KERAS_BACKEND=backend, CUDA_VISIBLE_DEVICES="")
        run = subprocess.run(
            [sys.executable, "-c", BACKEND_SCRIPT, str(tmp_path / "case.npz"), json.dumps(BACKEND_CASES)],
            capture_output=True, text=True, env=env, check=False,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        result = json.loads(run.stdout.strip().splitlines()[-1])
        assert result["backend"] == backend
        outputs[backend] = result["results"]
    for name in BACKEND_CASES:
        reference = np.array(outputs["tensorflow"][name])
        assert np.abs(reference).max() > 0.1
        for backend in ("jax", "torch"):
            np.testing.assert_allclose(np.array(outputs[backend][name]), reference, atol=1e-4, err_msg=f"{name} {backend}")
