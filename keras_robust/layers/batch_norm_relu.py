"""Batch normalization in training mode with its gradient written out, for the correction units."""

from keras import backend, ops


def batch_norm_relu(norm, inputs, training=None):
    """`relu(norm(inputs, training=training))` for a built `keras.layers.BatchNormalization` on the last axis.

    In training the gradient through the batch statistics is written out
    (the normalization's standard backward pass: two channel sums and one
    expression) instead of being derived through the moments, and channel
    sums are matrix products, which stay fast for the narrow maps of a
    correction unit (12 or 24 channels) where a reduction does not. Same
    values and gradients within float round-off; the moving statistics are
    updated as `norm` updates them. On the 2-core CPU a Deepcorr step went
    from 219 to 196 ms and a Deepcorr-b step from 261 to 174 ms
    (`benchmarks/training_speed.py`, docs/benchmarks.md).
    """
    if not (training and norm.trainable):
        return ops.relu(norm(inputs, training=training))
    dtype = inputs.dtype
    inputs = ops.cast(inputs, backend.result_type(dtype, "float32"))  # statistics in float32 at least, as Keras
    gamma = ops.cast(norm.gamma, inputs.dtype) if norm.scale else None
    beta = ops.cast(norm.beta, inputs.dtype) if norm.center else None
    outputs, mean, variance = _normalize(inputs, gamma, beta, norm.epsilon)
    norm.moving_mean.assign(norm.moving_mean * norm.momentum + mean * (1.0 - norm.momentum))
    norm.moving_variance.assign(norm.moving_variance * norm.momentum + variance * (1.0 - norm.momentum))
    return ops.cast(ops.relu(outputs), dtype)


def _channel_sum(x):
    """Sum over every axis but the last, as one matrix product."""
    flat = ops.reshape(x, (-1, x.shape[-1]))
    return ops.reshape(ops.matmul(ops.ones((1, ops.shape(flat)[0]), x.dtype), flat), (x.shape[-1],))


def _normalize(inputs, gamma, beta, epsilon):
    """(normalized inputs, batch mean, batch variance); only the first carries a gradient, which accounts for the
    statistics' dependence on the inputs."""
    gamma = ops.ones((inputs.shape[-1],), inputs.dtype) if gamma is None else gamma
    beta = ops.zeros((inputs.shape[-1],), inputs.dtype) if beta is None else beta
    count = ops.cast(ops.size(inputs) // inputs.shape[-1], inputs.dtype)
    constant = ops.stop_gradient(inputs)
    mean = _channel_sum(constant) / count
    variance = _channel_sum(ops.square(constant - mean)) / count

    @ops.custom_gradient
    def forward(x, gamma, beta, mean, variance):
        centered = x - mean
        inverse = ops.rsqrt(variance + epsilon)
        scale = gamma * inverse

        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            d_beta = _channel_sum(upstream)
            d_centered = _channel_sum(upstream * centered)  # d_gamma / inverse
            d_x = upstream * scale - (centered * (scale * inverse * inverse * d_centered / count)
                                      + scale * d_beta / count)
            return d_x, d_centered * inverse, d_beta, ops.zeros_like(mean), ops.zeros_like(variance)

        return centered * scale + beta, grad

    return forward(inputs, gamma, beta, mean, variance), mean, variance
