"""Where DeepCorrect acts in a functional graph (graph edits: `keras_robust.graph`)."""

import keras

from keras_robust.graph import has_activation, leaf_layers, node_of, ordered_nodes, readers, sole_batch_norm_reader


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
        shown = ", ".join(map(repr, names[:8])) + (f", ... ({len(names)} in all)" if len(names) > 8 else "")
        nested = [l.name for l in model.layers if isinstance(l, keras.Model) and name in {x.name for x in leaf_layers(l)}]
        inside = (f"It is inside the nested model {nested[0]!r}: DeepCorrect corrects layers of the outer model. "
                  if nested else "")
        raise ValueError(
            f"No layer named {name!r} in model {model.name!r}. {inside}"
            f"Layers with 4D outputs: {shown}. Received: {name!r}"
        ) from None
    node = node_of(model, layer)
    if len(node.outputs) != 1 or len(node.outputs[0].shape) != 4:
        raise ValueError(
            f"Layer {name!r} must have one 4D (batch, height, width, channels) output. "
            f"Received: {[tuple(t.shape) for t in node.outputs]}"
        )
    if has_activation(layer):
        return layer.name
    norm = sole_batch_norm_reader(node, readers(ordered_nodes(model)))
    return norm.name if norm is not None else layer.name
