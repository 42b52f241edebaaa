"""Edits of functional Keras model graphs: the one module on Keras (and tfds) internals.

Every edit (`clone`, `insert_after`, `replace_layers`,
`fold_batch_normalization`) runs through the public
`keras.models.clone_model(clone_function=..., call_function=...)`. Reading a
graph node by node (`ordered_nodes`, `cut`, `split_softmax`) and running it on
tensors from outside the model (`rebuild`) need private pieces of Keras; the
multi-worker build and the released ImageNet-C crop need two more. Each is
named in `PRIVATE_ATTRIBUTES`, used here and nowhere else in keras_robust (a
test reads every module's code to check it), and tested where it is used, so
an upgrade that changes one fails loudly.
"""

import keras

PRIVATE_ATTRIBUTES = {
    "_nodes_by_depth": "keras Functional: its nodes by depth, the only ordered view of the graph (ordered_nodes)",
    "_symbolic_build": "keras Trainer: builds the model, optimizer and metrics from one batch (symbolic_build)",
    "_maybe_symbolic_build": "keras Trainer: what fit calls to build before training (replace_fit_build)",
    "_decode_and_center_crop": "tfds imagenet2012_corrupted: the crop of the released ImageNet-C (imagenet_c_crop)",
}


def symbolic_build(model, data_batch):
    """Build `model`, its optimizer and metrics from one batch, as `fit` does before its first step."""
    model._symbolic_build(data_batch=data_batch)


def replace_fit_build(model, build):
    """Make `fit` build `model` with `build(iterator=None, data_batch=None)` instead of its own build."""
    model._maybe_symbolic_build = build


def imagenet_c_crop(image_bytes):
    """tfds' imagenet2012_corrupted crop of an encoded image: the central 224/256 of the short side, bicubic to
    224 (float pixels)."""
    from tensorflow_datasets.datasets.imagenet2012_corrupted import imagenet2012_corrupted_dataset_builder as source

    return source._decode_and_center_crop(image_bytes)


def as_functional(model):
    """The model itself if functional, else a functional model calling its layers.

    Args:
        model: a functional model, or a built `keras.Sequential`.

    Returns:
        A functional `keras.Model` (sharing the layers of a Sequential).

    Example:

    ```python
    import keras
    from keras_robust.graph import as_functional

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    assert as_functional(model).layers[1] is model.layers[0]
    ```
    """
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
            "Graph edits need a functional or Sequential model. "
            f"Received: a subclassed model {type(model).__name__}"
        )
    return model


def leaf_layers(model):
    """Leaf layers in the order of the (nested) model's `layers`, nested models expanded in place.

    The order of `model.layers` is topological for functional models.

    Example:

    ```python
    import keras
    from keras_robust.graph import leaf_layers

    inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="a")], name="inner")
    outer = keras.Sequential([inner, keras.layers.Dense(2, name="b")])
    assert [layer.name for layer in leaf_layers(outer)] == ["a", "b"]
    ```
    """
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        else:
            yield layer


def ordered_nodes(model):
    """Non-input nodes of a functional model, in an order that runs the graph."""
    nodes = []
    for depth in sorted(model._nodes_by_depth, reverse=True):
        nodes += [n for n in model._nodes_by_depth[depth] if n.operation and not n.is_input]
    return nodes


def node_of(model, layer):
    """The one node of `model` that calls `layer` (an error if called zero or several times)."""
    nodes = [n for n in ordered_nodes(model) if n.operation is layer]
    if len(nodes) != 1:
        raise ValueError(
            f"Layer {layer.name!r} must be called exactly once in the model. "
            f"Received: {len(nodes)} calls"
        )
    return nodes[0]


def readers(nodes):
    """Maps `id` of every tensor to the nodes (of `nodes`) that take it as an input."""
    found = {}
    for node in nodes:
        for tensor in node.input_tensors:
            found.setdefault(id(tensor), []).append(node)
    return found


def sole_batch_norm_reader(node, readers_map):
    """The BatchNormalization that alone reads the node's output, or None."""
    nodes = readers_map.get(id(node.outputs[0]), [])
    if len(nodes) == 1 and isinstance(nodes[0].operation, keras.layers.BatchNormalization):
        return nodes[0].operation
    return None


def has_activation(layer):
    """Whether `layer` has a fused activation other than linear."""
    activation = getattr(layer, "activation", None)
    return activation is not None and activation is not keras.activations.linear


def cut(model, point):
    """Tensors that carry everything from before layer `point` to the rest of the graph.

    Returns `(point_tensor, cut_tensors)`: the output of layer `point` and the
    tensors computed up to it (inputs included) that later nodes or the
    outputs use; `point_tensor` is one of them.
    """
    nodes = ordered_nodes(model)
    node = node_of(model, model.get_layer(point))
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
    """Runs the graph of `model` on tensors `inputs`; returns its outputs as a list.

    Unlike `clone`, the new graph may read tensors from outside the model
    (an `after` function may use other `keras.Input`s).

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


def copy_layer(layer, linear=False, **config):
    """A new layer from `layer`'s config (without its fused activation if `linear`, `config` overriding), unbuilt."""
    config = layer.get_config() | config
    if linear:
        config["activation"] = "linear"
    return layer.__class__.from_config(config)


def clone(model, after=None, linear=(), replace=None, name=None, *, share=False, recursive=False):
    """A copy of a model with edits, on `keras.models.clone_model`.

    Args:
        model: a functional or Sequential model (left unchanged).
        after: dict mapping a layer name of `model` to a function applied
            to that layer's output before the rest of the graph sees it.
        linear: names of layers copied without their fused activation.
        replace: optional function of an original layer returning what to
            call instead: a ready (built, weighted) layer, any callable (e.g.
            `lambda x, **kwargs: x` drops the layer), or `None` to keep it.
        name: name of the new model (default: `model`'s name).
        share: if `False`, every kept layer is a copy with the original's
            weights and `trainable` flag; if `True`, kept layers are shared.
        recursive: also edit inside nested functional and Sequential models
            (`after` then applies inside nested functional models too).

    Returns:
        The new `keras.Model`.

    Example:

    ```python
    import keras
    from keras_robust.graph import clone

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2, name="d")(inputs))
    copy = clone(model, after={"d": keras.layers.ReLU()})
    assert copy.get_layer("d") is not model.get_layer("d")
    ```
    """
    after, linear = dict(after or {}), set(linear)
    copies, origin = [], {}

    def clone_function(layer):
        new = replace(layer) if replace is not None else None
        if new is None and isinstance(layer, keras.layers.Layer) and (not share or layer.name in linear):
            new = copy_layer(layer, layer.name in linear)
            copies.append((layer, new))
        new = layer if new is None else new
        origin[id(new)] = layer.name
        return new

    def call_function(layer, *args, **kwargs):
        outputs = layer(*args, **kwargs)
        edit = after.get(origin.get(id(layer)))
        return outputs if edit is None else edit(outputs)

    if not isinstance(model, keras.Sequential) or after or linear:
        model = as_functional(model)
    edited = keras.models.clone_model(
        model, clone_function=clone_function, recursive=recursive,
        call_function=None if isinstance(model, keras.Sequential) else call_function,
    )
    for original, new in copies:
        if original.weights:
            new.set_weights(original.get_weights())
        new.trainable = original.trainable
    edited.name = name or model.name
    return edited


def insert_after(model, after, *, name=None, share=False):
    """A copy of `model` with functions applied after chosen layers.

    Args:
        model: a functional or Sequential model.
        after: dict mapping a layer name to a function (e.g. a new layer)
            applied to that layer's output before the rest of the graph.
        name: name of the new model.
        share: share the kept layers instead of copying them (see `clone`).

    Example:

    ```python
    import keras
    from keras_robust.graph import insert_after

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="d")])
    edited = insert_after(model, {"d": keras.layers.Dropout(0.5, name="drop")})
    assert [layer.name for layer in edited.layers][-2:] == ["d", "drop"]
    ```
    """
    unknown = set(after) - {layer.name for layer in model.layers}
    if unknown:
        raise ValueError(
            f"No layers named {sorted(unknown)} in model {model.name!r}. "
            f"Layers: {[layer.name for layer in model.layers]}"
        )
    return clone(model, after=after, name=name, share=share)


def replace_layers(model, replace, *, name=None, share=False, recursive=True):
    """A copy of `model` in which `replace(layer)` stands for the layers it does not return `None` for.

    Nested models are edited in place by default (`recursive=True`); kept
    layers are copies with the same weights (or shared with `share=True`).

    Args:
        model: a functional or Sequential model.
        replace: function of an original layer returning the layer to call
            instead, ready to use (built, with its weights), or `None`.
        name: name of the new model.
        share: share the kept layers instead of copying them.
        recursive: whether `replace` also sees the layers of nested models.

    Example:

    ```python
    import keras
    from keras_robust.graph import replace_layers

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="relu")])
    edited = replace_layers(model, lambda layer: keras.layers.Identity() if isinstance(
        layer, keras.layers.Dense) else None)
    assert isinstance(edited.layers[-1], keras.layers.Identity)
    ```
    """
    return clone(model, replace=replace, name=name, share=share, recursive=recursive)


def _batch_norm_after(node, readers_map):
    """The BatchNormalization over channels that alone reads a linear channels-last Conv2D's output, or None."""
    conv = node.operation
    if type(conv) is not keras.layers.Conv2D or has_activation(conv) or conv.data_format != "channels_last":
        return None
    norm = sole_batch_norm_reader(node, readers_map)
    return norm if norm is not None and norm.axis in (-1, len(node.outputs[0].shape) - 1) else None


def batch_norm_affine(norm):
    """`(scale, shift)` numpy vectors with `norm(x) = x * scale + shift` in inference (moving statistics)."""
    to_numpy = keras.ops.convert_to_numpy
    scale = 1.0 / (to_numpy(norm.moving_variance).astype("float64") + norm.epsilon) ** 0.5
    if norm.gamma is not None:
        scale = scale * to_numpy(norm.gamma)
    shift = -to_numpy(norm.moving_mean) * scale
    if norm.beta is not None:
        shift = shift + to_numpy(norm.beta)
    return scale, shift


def folded_conv(conv, norm, input_shape):
    """`conv` followed by `norm` (moving statistics) as one built Conv2D with a bias, named like `conv`."""
    scale, shift = batch_norm_affine(norm)
    kernel = keras.ops.convert_to_numpy(conv.kernel) * scale
    if conv.use_bias:
        shift = shift + keras.ops.convert_to_numpy(conv.bias) * scale
    folded = keras.layers.Conv2D.from_config(conv.get_config() | {"use_bias": True})
    folded.build(input_shape)
    folded.set_weights([kernel.astype(conv.kernel.dtype), shift.astype(conv.kernel.dtype)])
    return folded


def _drop(inputs, *args, **kwargs):
    return inputs


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

    Example:

    ```python
    import keras
    from keras_robust.graph import fold_batch_normalization

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(x))
    folded, renamed = fold_batch_normalization(model)
    assert renamed == {"bn": "conv"} and folded.get_layer("conv").use_bias
    ```
    """
    model = as_functional(model)
    nodes = ordered_nodes(model)
    readers_map = readers(nodes)
    outputs = {id(t) for t in model.outputs}
    pairs = {}
    for node in nodes:
        norm = _batch_norm_after(node, readers_map)
        if norm is not None and id(node.outputs[0]) not in outputs:
            pairs[node.operation.name] = (norm, node.input_tensors[0].shape)
    renamed = {norm.name: conv for conv, (norm, _) in pairs.items()}

    def replace(layer):
        if layer.name in renamed:
            return _drop
        if layer.name in pairs:
            return folded_conv(layer, *pairs[layer.name])
        return None

    folded = clone(model, replace=replace, share=True, name=f"{model.name}_folded")
    return folded, renamed


def _is_softmax(activation):
    return activation is not None and keras.activations.serialize(activation) == "softmax"


def _logits_before_softmax(model):
    """`(logits, to_probabilities)` with `logits` a tensor of `model`'s graph, or `None`."""
    if len(model.outputs) != 1:
        return None
    node = next(n for n in reversed(ordered_nodes(model)) if any(t is model.outputs[0] for t in n.outputs))
    layer, inputs = node.operation, node.input_tensors
    if len(inputs) != 1:
        return None
    if isinstance(layer, keras.Model):
        nested = as_functional(layer)
        inner = _logits_before_softmax(nested)
        if inner is None:
            return None
        inner_logits, to_probabilities = inner
        return keras.Model(nested.inputs, inner_logits)(inputs[0]), to_probabilities
    if isinstance(layer, keras.layers.Softmax) or (
        isinstance(layer, keras.layers.Activation) and _is_softmax(layer.activation)
    ):
        return inputs[0], layer
    if _is_softmax(getattr(layer, "activation", None)):
        linear = copy_layer(layer, linear=True, name=f"{layer.name}_logits")
        logits = linear(inputs[0])
        linear.set_weights(layer.get_weights())
        return logits, keras.layers.Activation(layer.activation, name=f"{layer.name}_softmax")
    return None


def split_softmax(model):
    """The model up to the logits before its final softmax, and that softmax.

    The softmax is found as a layer whose `activation` is softmax (such as
    `Dense(..., activation="softmax")`, whose linear copy then gives the
    logits), or an `Activation("softmax")` / `Softmax` layer, looked for
    inside a nested model that is the last layer.

    Args:
        model: a functional or Sequential model with one output.

    Returns:
        `(logits_model, to_probabilities)`: a functional model from
        `model`'s inputs to the logits (sharing its layers) and the layer
        that turns logits into the model's output; or `None` if no softmax
        ends the model.

    Example:

    ```python
    import keras
    from keras_robust.graph import split_softmax

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    logits_model, to_probabilities = split_softmax(model)
    assert logits_model.layers[-1].get_config()["activation"] == "linear"
    ```
    """
    functional = as_functional(model)
    split = _logits_before_softmax(functional)
    if split is None:
        return None
    logits, to_probabilities = split
    return keras.Model(functional.inputs, logits, name=f"{model.name}_logits"), to_probabilities
