"""PushPull2D against a direct NumPy implementation of the paper's formula."""

import math
import re
import time
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_robust.layers import PushPull2D
from keras_robust.layers.push_pull import pull_kernel_size

DATA = Path(__file__).parent / "data"


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
        (3, 1, "same", 1, True, 1.0, 1.0),
        (4, 1, "valid", 1, False, 0.5, 1.0),
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
    assert [pull_kernel_size(3, 1.0), pull_kernel_size(4, 1.0)] == [3, 4]  # h = 1: the push kernel's side


def test_scale_one_pulls_with_the_negated_push_kernel():
    layer = PushPull2D(16, 3, scale=1.0)
    layer.build((1, 8, 8, 3))
    np.testing.assert_array_equal(layer.pull_weights().numpy(), -layer.kernel.numpy())
    even = PushPull2D(2, (2, 4), scale=1, padding="valid")
    assert even(np.ones((1, 6, 6, 1), "float32")).shape == (1, 5, 3, 2)
    assert tuple(even.pull_weights().shape) == (2, 4, 1, 2)


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


def test_trainable_alpha_starts_as_in_the_authors_layer():
    layer = PushPull2D(64, 3, trainable_alpha=True, alpha=3.0)
    layer.build((1, 8, 8, 4))
    alpha = layer.alpha_weight.numpy()
    spread = 1 / math.sqrt(4 * 64)  # PPmodule2d: uniform(0.5 - r, 0.5 + r), r = 1/sqrt(C_in C_out)
    assert alpha.min() >= 0.5 - spread and alpha.max() <= 0.5 + spread and alpha.std() > spread / 4
    fixed = PushPull2D(4, 3, trainable_alpha=True, alpha_initializer=keras.initializers.Constant(0.7))
    fixed.build((1, 8, 8, 2))
    np.testing.assert_allclose(fixed.alpha_weight.numpy(), 0.7)


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
        ({"scale": 0.99}, "scale=0.99"),
        ({"scale": 1e9}, "scale=1000000000.0"),
        ({"scale": math.nan}, "scale=nan"),
        ({"alpha": -0.1}, "alpha=-0.1"),
        ({"alpha": math.nan}, "alpha=nan"),
        ({"alpha": math.inf}, "alpha=inf"),
        ({"trainable_alpha": "no"}, "trainable_alpha='no'"),
        ({"use_bias": 1}, "use_bias=1"),
        ({"pull_pool_size": 2}, "pull_pool_size=2"),
        ({"padding": "causal"}, "padding='causal'"),
        ({"pull_kernel": "gaussian"}, "pull_kernel='gaussian'"),
        ({"filters": 0}, "filters=0"),
        ({"filters": True}, "filters=True"),
        ({"filters": 4.0}, "filters=4.0"),
        ({"kernel_size": (3, 0)}, "kernel_size=(3, 0)"),
        ({"kernel_size": 65}, "kernel_size=65"),
        ({"kernel_size": 10**9}, "kernel_size=1000000000"),
        ({"groups": 3}, "groups=3"),
        ({"data_format": "nhwc"}, "data_format='nhwc'"),
    ],
)
def test_bad_arguments_name_the_value(kwargs, message):
    arguments = {"filters": 4, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match="Received: .*" + re.escape(message)):
        PushPull2D(**arguments)


def test_huge_sizes_from_a_config_fail_before_allocating(tmp_path):
    config = PushPull2D(4, 3).get_config()
    for huge in ({"scale": 3e6}, {"kernel_size": (3, 2**31)}):
        started = time.perf_counter()
        with pytest.raises(ValueError, match="Received"):
            PushPull2D(**{**config, **huge})
        assert time.perf_counter() - started < 0.5
    # The same refusal when a .keras file asks for it (Keras re-raises it as a TypeError).
    inputs = keras.Input((8, 8, 3))
    path = tmp_path / "model.keras"
    keras.Model(inputs, PushPull2D(4, 3, name="pp")(inputs)).save(path)
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    files["config.json"] = files["config.json"].replace(b'"scale": 2.0', b'"scale": 3000000.0')
    hostile = tmp_path / "hostile.keras"
    with zipfile.ZipFile(hostile, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    started = time.perf_counter()
    with pytest.raises((TypeError, ValueError), match=r"`scale` must be .* Received: scale=3000000\.0"):
        keras.saving.load_model(hostile, safe_mode=True)
    assert time.perf_counter() - started < 5


def test_numpy_integers_are_accepted():
    layer = PushPull2D(np.int64(4), np.int32(3), strides=np.int64(1), groups=np.int64(1))
    assert (layer.filters, layer.kernel_size, layer.strides) == (4, (3, 3), (1, 1))
    assert type(layer.get_config()["filters"]) is int


def test_wrong_input_rank():
    with pytest.raises(ValueError, match="4D input"):
        PushPull2D(4, 3).build((8, 8, 3))
    with pytest.raises(ValueError):
        PushPull2D(4, 3)(np.zeros((8, 8, 3), "float32"))


def test_is_a_conv2d_with_every_conv2d_argument():
    assert issubclass(PushPull2D, keras.layers.Conv2D)
    x = np.random.default_rng(8).normal(size=(2, 9, 9, 4)).astype("float32")
    layer = PushPull2D(6, 3, groups=2, activation="relu", use_bias=True, bias_initializer="random_normal")
    y = keras.ops.convert_to_numpy(layer(x))
    assert y.shape == (2, 7, 7, 6) and y.min() == 0.0
    linear = PushPull2D(6, 3, groups=2, use_bias=True)
    linear.build(x.shape)
    linear.set_weights(layer.get_weights())
    np.testing.assert_array_equal(np.maximum(keras.ops.convert_to_numpy(linear(x)), 0), y)
    # Each group is a push-pull layer on its own slice of the input channels.
    kernel, bias = layer.get_weights()
    for group in range(2):
        part = PushPull2D(3, 3, use_bias=True, activation="relu")
        part.build((2, 9, 9, 2))
        part.set_weights([kernel[..., 3 * group : 3 * group + 3], bias[3 * group : 3 * group + 3]])
        got = keras.ops.convert_to_numpy(part(x[..., 2 * group : 2 * group + 2]))
        np.testing.assert_allclose(got, y[..., 3 * group : 3 * group + 3], atol=1e-6)


def test_loads_files_saved_by_the_layer_before_it_was_a_conv2d():
    """A .keras file saved by keras_robust 0.1.0 (PushPull2D(keras.layers.Layer)) gives the same outputs."""
    model = keras.saving.load_model(DATA / "push_pull_v0.1.0.keras", safe_mode=True)
    saved = np.load(DATA / "push_pull_v0.1.0.npz")
    assert [type(layer) for layer in model.layers[1:]] == [PushPull2D] * 3
    assert model.get_layer("pp1").alpha_weight is not None
    # Same within float32 round-off: the saved outputs came from another CPU, whose convolution kernels sum in
    # another order (differences of ~4e-6 relative seen on an AVX-512 machine).
    np.testing.assert_allclose(model.predict(saved["x"], verbose=0), saved["y"], rtol=1e-5, atol=1e-5)
