"""Where DeepCorrect acts in a functional graph, and how to cut the graph there."""

import keras


def as_functional(model):
    """The model itself if functional, else a functional model with its layers."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"Expected a keras.Model. Received: model={model!r}")
    if isinstance(model, keras.Sequential):
        if not model.built or not model.inputs:
            raise ValueError(
                "A Sequential model must be built with a known input shape. "
                f"Received: model {model.name!r} (not built)"
            )
        inputs = keras.Input(shape=model.input_shape[1:], dtype=model.inputs[0].dtype)
        x = inputs
        for layer in model.layers:
            x = layer(x)
        return keras.Model(inputs, x, name=model.name)
    if not hasattr(model, "_nodes_by_depth"):
        raise ValueError(
            "DeepCorrect needs a functional or Sequential model. "
            f"Received: a subclassed model {type(model).__name__}"
        )
    return model


def ordered_nodes(model):
    """Non-input nodes of a functional model, in an order that runs the graph."""
    nodes = []
    for depth in sorted(model._nodes_by_depth, reverse=True):
        nodes += [n for n in model._nodes_by_depth[depth] if n.operation and not n.is_input]
    return nodes


def _node_of(model, layer):
    nodes = [n for n in ordered_nodes(model) if n.operation is layer]
    if len(nodes) != 1:
        raise ValueError(
            f"Layer {layer.name!r} must be called exactly once in the model. "
            f"Received: {len(nodes)} calls"
        )
    return nodes[0]


def has_activation(layer):
    activation = getattr(layer, "activation", None)
    return activation is not None and activation is not keras.activations.linear


def correction_point(model, name):
    """Name of the layer whose output DeepCorrect corrects for layer `name`.

    The correction acts before the non-linearity: on the layer's output if
    it has no activation of its own (or if its activation is split off),
    or on the output of a `BatchNormalization` that is the only consumer of
    that output (conv -> BN -> ReLU corrects after the BN).
    """
    try:
        layer = model.get_layer(name)
    except ValueError:
        names = [l.name for l in model.layers if len(l.output.shape) == 4]
        raise ValueError(
            f"No layer named {name!r} in model {model.name!r}. "
            f"Layers with 4D outputs: {names}"
        ) from None
    node = _node_of(model, layer)
    if len(node.outputs) != 1 or len(node.outputs[0].shape) != 4:
        raise ValueError(
            f"Layer {name!r} must have one 4D (batch, height, width, channels) output. "
            f"Received: {[tuple(t.shape) for t in node.outputs]}"
        )
    if has_activation(layer):
        return layer.name
    norm = _sole_batch_norm_reader(node, _readers(ordered_nodes(model)))
    return norm.name if norm is not None else layer.name


def _readers(nodes):
    """Maps `id` of every tensor to the nodes that take it as an input."""
    readers = {}
    for node in nodes:
        for tensor in node.input_tensors:
            readers.setdefault(id(tensor), []).append(node)
    return readers


def _sole_batch_norm_reader(node, readers):
    """The BatchNormalization that alone reads the node's output, or None."""
    nodes = readers.get(id(node.outputs[0]), [])
    if len(nodes) == 1 and isinstance(nodes[0].operation, keras.layers.BatchNormalization):
        return nodes[0].operation
    return None


def cut(model, point):
    """Tensors that carry everything from before `point` to the rest of the graph.

    Returns `(point_tensor, cut_tensors)`: the output of layer `point` and the
    tensors computed up to it (inputs included) that later nodes or the
    outputs use; `point_tensor` is one of them.
    """
    nodes = ordered_nodes(model)
    node = _node_of(model, model.get_layer(point))
    position = nodes.index(node)
    produced = {id(t): t for t in model.inputs}
    for earlier in nodes[: position + 1]:
        produced.update({id(t): t for t in earlier.outputs})
    needed = {}
    for later in nodes[position + 1:]:
        needed.update({id(t): t for t in later.input_tensors if id(t) in produced})
    needed.update({id(t): t for t in model.outputs if id(t) in produced})
    point_tensor = node.outputs[0]
    needed.setdefault(id(point_tensor), point_tensor)
    return point_tensor, list(needed.values())


def rebuild(model, inputs, operation=lambda op: op, after=None):
    """Runs the graph of `model` on new tensors `inputs`; returns its outputs.

    Args:
        model: a functional model.
        inputs: tensors (symbolic or not) in the order of `model.inputs`.
        operation: maps each layer or operation to the one to call instead.
        after: dict mapping a layer name to a function applied to that
            layer's output before the rest of the graph sees it.
    """
    after = after or {}
    values = {id(t): v for t, v in zip(model.inputs, inputs)}
    for node in ordered_nodes(model):
        args, kwargs = node.arguments.fill_in(values)
        outputs = operation(node.operation)(*args, **kwargs)
        if node.operation.name in after:
            outputs = after[node.operation.name](outputs)
        flat = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        values.update({id(t): v for t, v in zip(node.outputs, flat)})
    return [values[id(t)] for t in model.outputs]


def _copy(layer, linear=False):
    config = layer.get_config()
    if linear:
        config["activation"] = "linear"
    return layer.__class__.from_config(config)


def clone(model, after=None, linear=(), replace=None, name=None):
    """A copy of a functional model with its own layers (same weights).

    Args:
        model: a functional model.
        after: as in `rebuild`, with layer names of `model`.
        linear: names of layers copied without their fused activation.
        replace: optional function of an original layer returning a ready
            (built, weighted) layer to use instead, or `None` to copy it.
        name: name of the new model.

    Returns:
        The new model; copied layers keep `trainable` of the originals.
    """
    copies = {}

    def operation(op):
        if not isinstance(op, keras.layers.Layer):
            return op
        if op.name not in copies:
            new = replace(op) if replace is not None else None
            copied = new is None
            copies[op.name] = (op, _copy(op, op.name in linear) if copied else new, copied)
        return copies[op.name][1]

    inputs = [keras.Input(shape=t.shape[1:], dtype=t.dtype) for t in model.inputs]
    outputs = rebuild(model, inputs, operation, after)
    new_model = keras.Model(
        inputs, outputs if len(outputs) > 1 else outputs[0], name=name or model.name
    )
    for original, copy, copied in copies.values():
        if copied:
            copy.set_weights(original.get_weights())
            copy.trainable = original.trainable
    return new_model


def _batch_norm_after(node, readers):
    """The BatchNormalization over channels that alone reads a linear channels-last Conv2D's output, or None."""
    conv = node.operation
    if type(conv) is not keras.layers.Conv2D or has_activation(conv) or conv.data_format != "channels_last":
        return None
    norm = _sole_batch_norm_reader(node, readers)
    return norm if norm is not None and norm.axis in (-1, len(node.outputs[0].shape) - 1) else None


def _folded_conv(conv, norm):
    """`conv` followed by `norm` (moving statistics) as one Conv2D with a bias, named like `conv`."""
    scale = keras.ops.rsqrt(norm.moving_variance + norm.epsilon)
    if norm.gamma is not None:
        scale = scale * norm.gamma
    shift = -norm.moving_mean * scale
    if norm.beta is not None:
        shift = shift + norm.beta
    if conv.use_bias:
        shift = shift + conv.bias * scale
    config = conv.get_config() | {"use_bias": True}
    folded = keras.layers.Conv2D.from_config(config)
    folded.build(conv.input.shape)
    folded.set_weights([keras.ops.convert_to_numpy(conv.kernel * scale), keras.ops.convert_to_numpy(shift)])
    return folded


def fold_batch_normalization(model):
    """An inference copy of a functional model with every Conv2D -> BatchNormalization pair as one Conv2D.

    Batch normalization with moving statistics is an affine map per
    channel, so it folds into the convolution before it (kernel and bias
    scaled per output channel): one pass over the activations instead of
    three, the same function up to float32 round-off.

    Returns:
        `(folded_model, renamed)`: the new model (its layers shared with
        `model` except the folded convolutions, which keep the
        convolution's name) and a dict mapping each folded
        BatchNormalization's name to that convolution's name.
    """
    nodes = ordered_nodes(model)
    readers = _readers(nodes)
    outputs = {id(t) for t in model.outputs}
    pairs = {}
    for node in nodes:
        norm = _batch_norm_after(node, readers)
        if norm is not None and id(node.outputs[0]) not in outputs:
            pairs[node.operation.name] = norm
    renamed = {norm.name: conv for conv, norm in pairs.items()}

    def operation(op):
        if op.name in renamed:
            return lambda x, **kwargs: x
        return _folded_conv(op, pairs[op.name]) if op.name in pairs else op

    inputs = [keras.Input(shape=t.shape[1:], dtype=t.dtype) for t in model.inputs]
    outputs = rebuild(model, inputs, operation)
    folded = keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0], name=f"{model.name}_folded")
    return folded, renamed
