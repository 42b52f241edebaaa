"""The correction units' batch normalization (`batch_norm_relu`): the values, gradients and moving statistics of
`relu(keras.layers.BatchNormalization(...)(x, training=True))`, on every backend (each in a subprocess)."""

import json
import os
import subprocess
import sys

import pytest

SCRIPT = """
import json
import numpy as np
import keras
from keras import ops
from keras_robust.layers.batch_norm_relu import batch_norm_relu

rng = np.random.default_rng(0)
x = rng.normal(1.0, 2.0, (8, 5, 5, 12)).astype("float32")
weights = rng.normal(size=x.shape).astype("float32")
layers = []
for _ in range(2):
    norm = keras.layers.BatchNormalization(momentum=0.9)
    norm.build(x.shape)
    layers.append(norm)
ours, keras_norm = layers
for norm in layers:
    norm.gamma.assign(np.linspace(0.5, 1.5, 12).astype("float32"))
    norm.beta.assign(np.linspace(-0.5, 0.5, 12).astype("float32"))
    norm.moving_mean.assign(np.full(12, 0.3, "float32"))


def run(norm, call):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        inputs = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = call(inputs)
            loss = tf.reduce_sum(outputs * weights)
        grads = tape.gradient(loss, [inputs, norm.gamma.value, norm.beta.value])
    elif backend == "torch":
        import torch
        inputs = torch.tensor(x, requires_grad=True)
        outputs = call(inputs)
        (outputs * torch.tensor(weights)).sum().backward()
        grads = [inputs.grad, norm.gamma.value.grad, norm.beta.value.grad]
    else:
        import jax

        def loss(inputs, gamma, beta):
            with keras.StatelessScope(state_mapping=[(norm.gamma, gamma), (norm.beta, beta)]):
                return (call(inputs) * weights).sum()

        outputs = call(x)
        grads = jax.grad(loss, argnums=(0, 1, 2))(x, norm.gamma.value, norm.beta.value)
    return [ops.convert_to_numpy(v) for v in [outputs, *grads, norm.moving_mean, norm.moving_variance]]


got = run(ours, lambda inputs: batch_norm_relu(ours, inputs, training=True))
want = run(keras_norm, lambda inputs: ops.relu(keras_norm(inputs, training=True)))
print(json.dumps({"backend": keras.backend.backend(),
                  "errors": [float(np.abs(g - w).max() / np.abs(w).max()) for g, w in zip(got, want)],
                  "sizes": [float(np.abs(w).max()) for w in want]}))
"""

NAMES = ["outputs", "input gradient", "gamma gradient", "beta gradient", "moving mean", "moving variance"]


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_equals_keras_batch_normalization_then_relu(backend):
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, KERAS_BACKEND=backend, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3"))
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend
    for name, error, size in zip(NAMES, result["errors"], result["sizes"]):
        assert size > 0.1, name  # every compared quantity is far from zero
        assert error < 1e-5, f"{name}: relative error {error}"


def test_inference_is_keras_batch_normalization_then_relu():
    import keras
    import numpy as np

    from keras_robust.layers.batch_norm_relu import batch_norm_relu

    x = np.random.default_rng(1).normal(size=(2, 3, 3, 4)).astype("float32")
    norm = keras.layers.BatchNormalization()
    norm.build(x.shape)
    norm.moving_mean.assign(np.full(4, 0.5, "float32"))
    want = keras.ops.convert_to_numpy(keras.ops.relu(norm(x, training=False)))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(batch_norm_relu(norm, x, training=False)), want)
    norm.trainable = False  # a frozen normalization uses its moving statistics even in training
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(batch_norm_relu(norm, x, training=True)), want)
