"""Multiply-adds of a Keras model, counted as in He et al. and DeepCorrect."""

import math

import keras

from keras_robust.graph import ordered_nodes
from keras_robust.layers import ChannelCorrection, CorrectionUnit, PushPull2D


def _conv_flops(layer, input_shape, output_shape):
    config = layer.get_config()
    channels = input_shape[-1]
    kernel = math.prod(config["kernel_size"])
    positions = math.prod(output_shape[1:-1])
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return positions * output_shape[-1] * kernel
    if isinstance(layer, keras.layers.SeparableConv2D):
        depthwise = channels * config["depth_multiplier"]
        return positions * (depthwise * kernel + depthwise * config["filters"])
    return positions * config["filters"] * kernel * channels // config.get("groups", 1)


def _sequence_flops(layers, input_shape):
    total, shape = 0, tuple(input_shape)
    for layer in layers:
        flops, shape = _layer_flops(layer, shape)
        total += flops
    return total, shape


def _layer_flops(layer, input_shape, output_shape=None):
    """(multiply-adds, output shape) of one layer called on `input_shape` (giving `output_shape`, if known)."""
    if isinstance(layer, ChannelCorrection):
        unit_shape = tuple(input_shape[:-1]) + (len(layer.channels),)
        return _layer_flops(layer.unit, unit_shape)[0], tuple(input_shape)
    if isinstance(layer, CorrectionUnit):
        inner = [conv for convs in layer.stage_convs for conv in convs]
        return _sequence_flops([layer.reduce] + inner + [layer.expand], input_shape)[0], tuple(input_shape)
    if isinstance(layer, keras.Sequential):
        return _sequence_flops(layer.layers, input_shape)
    # Known from the graph where possible: some layers (ConvNeXt's LayerScale) cannot compute it.
    output_shape = tuple(layer.compute_output_shape(input_shape) if output_shape is None else output_shape)
    if isinstance(layer, keras.Model):
        return count_flops(layer), output_shape
    if isinstance(layer, PushPull2D):
        # the push and the pull convolution, each k_h·k_w·C multiply-adds per output value
        taps = math.prod(layer.kernel_size) + math.prod(layer.pull_size)
        return math.prod(output_shape[1:]) * taps * input_shape[-1], output_shape
    if isinstance(layer, keras.layers.Dense):
        return math.prod(input_shape[1:]) * layer.units, output_shape
    if hasattr(layer, "kernel_size") and hasattr(layer, "kernel"):
        return _conv_flops(layer, input_shape, output_shape), output_shape
    return 0, output_shape


def count_flops(model, per_layer=False):
    """Multiply-adds for one image, as counted by DeepCorrect (He et al.).

    A k×k convolution from C to N maps of output size H'×W' counts
    N·k²·C·H'·W' (divided by its groups), a dense layer its inputs times
    its units; a `PushPull2D` layer counts its push and its pull convolution;
    other layers (batch normalization, pooling, activations) count
    nothing. Correction units and nested models are counted through.

    Args:
        model: a built functional or Sequential model.
        per_layer: return a dict layer name -> multiply-adds instead.

    Returns:
        An int, or a dict when `per_layer`.

    Example:

    ```python
    import keras
    from keras_robust.utils import count_flops

    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)])
    assert count_flops(model) == 4 * 9 * 3 * 6 * 6
    ```
    """
    if isinstance(model, keras.Sequential):
        shape = tuple(model.inputs[0].shape)
        counts = {}
        for layer in model.layers:
            counts[layer.name], shape = _layer_flops(layer, shape)
        return counts if per_layer else sum(counts.values())
    counts = {}
    for node in ordered_nodes(model):
        flops = 0
        if isinstance(node.operation, keras.layers.Layer) and len(node.input_tensors) == 1:
            flops, _ = _layer_flops(node.operation, tuple(node.input_tensors[0].shape), tuple(node.outputs[0].shape))
        counts[node.operation.name] = counts.get(node.operation.name, 0) + flops
    return counts if per_layer else sum(counts.values())
