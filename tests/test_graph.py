"""Graph edits of keras_robust.graph, and the Keras internals they rest on."""

import ast
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from keras_robust import graph

PACKAGE = Path(__file__).resolve().parents[1] / "keras_robust"


def tiny_model():
    """input -> conv -> bn -> relu, a shared dense twice, add: every node kind graph.py reads."""
    inputs = keras.Input((6, 6, 2), name="image")
    x = layers.Conv2D(3, 3, padding="same", name="conv")(inputs)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(name="relu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    shared = layers.Dense(3, name="shared")
    y = layers.Add(name="add")([shared(x), shared(shared(x))])
    return keras.Model(inputs, layers.Dense(2, activation="softmax", name="head")(y), name="tiny")


def data(shape=(4, 6, 6, 2), seed=0):
    return np.random.default_rng(seed).uniform(0, 1, shape).astype("float32")


def run(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


def test_keras_internals_used_by_graph_exist():
    """Fails on a Keras upgrade that changes what graph.py reads: fix graph.py, nowhere else."""
    model = tiny_model()
    assert isinstance(model._nodes_by_depth, dict)
    assert all(isinstance(depth, int) for depth in model._nodes_by_depth)
    nodes = [node for depth in model._nodes_by_depth.values() for node in depth]
    assert sum(node.is_input for node in nodes) == 1
    for node in nodes:
        assert hasattr(node, "operation") and isinstance(node.outputs, (list, tuple))
        assert isinstance(node.input_tensors, (list, tuple))
    ordered = graph.ordered_nodes(model)
    names = [node.operation.name for node in ordered]
    assert names[:4] == ["conv", "bn", "relu", "pool"] and names[-2:] == ["add", "head"]
    assert names.count("shared") == 3 and len(ordered) == len(nodes) - 1
    add = next(node for node in ordered if node.operation.name == "add")
    values = {id(t): f"value of {i}" for i, t in enumerate(add.input_tensors)}
    args, kwargs = add.arguments.fill_in(values)
    assert args == (["value of 0", "value of 1"],) and kwargs == {}


NAMEDTUPLE_API = {"_asdict", "_replace", "_fields", "_make"}  # public, underscored to avoid field names


def foreign_private_attributes(path):
    """`(line, attribute)` of every private attribute the module at `path` reads or sets on something that is
    neither itself (`self`, `cls`) nor keras_robust's own."""
    tree = ast.parse(path.read_text())
    own = {"self", "cls"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and ((node.module or "").startswith("keras_robust") or node.level):
            own |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            own |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("keras_robust")}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if not (isinstance(root, ast.Name) and root.id in own) and node.attr not in NAMEDTUPLE_API:
                found.append((node.lineno, node.attr))
    return found


def test_private_keras_and_tfds_attributes_appear_in_graph_py_only_each_named_there():
    for path in PACKAGE.rglob("*.py"):
        if path != PACKAGE / "graph.py":
            assert foreign_private_attributes(path) == [], path
    used = {name for _, name in foreign_private_attributes(PACKAGE / "graph.py")}
    assert used == set(graph.PRIVATE_ATTRIBUTES), "graph.PRIVATE_ATTRIBUTES names exactly what graph.py uses"


def test_the_guard_sees_a_private_attribute_of_a_foreign_object(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("import keras\nfrom keras_robust import graph\n"
                      "def f(model, self):\n    graph._helper(model)\n    self._own = model._private\n"
                      "    return model.summary, point._replace(x=1)\n")
    assert foreign_private_attributes(module) == [(5, "_private")]


def test_flops_and_graph_never_import_deepcorrect():
    for path in [PACKAGE / "graph.py", *(PACKAGE / "utils").glob("*.py")]:
        tree = ast.parse(path.read_text())
        modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        modules += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [m for m in modules if m and m.startswith("keras_robust.deepcorrect")], path


def test_clone_copies_or_shares_layers_and_inserts_after():
    model = tiny_model()
    model.get_layer("conv").trainable = False
    x = data()
    copy = graph.clone(model, name="copy")
    assert copy.name == "copy" and copy.get_layer("conv") is not model.get_layer("conv")
    assert not copy.get_layer("conv").trainable and copy.get_layer("pool").trainable
    np.testing.assert_array_equal(run(copy, x), run(model, x))
    doubled = graph.insert_after(model, {"relu": lambda t: layers.Rescaling(2.0, name="twice")(t)}, share=True)
    assert doubled.get_layer("conv") is model.get_layer("conv")
    assert [layer.name for layer in doubled.layers].index("twice") == 4
    assert np.abs(run(doubled, x) - run(model, x)).max() > 1e-4
    with pytest.raises(ValueError, match=r"No layers named \['nope'\]"):
        graph.insert_after(model, {"nope": layers.ReLU()})
    linear = graph.clone(model, linear={"head"})
    np.testing.assert_allclose(keras.ops.softmax(run(linear, x)), run(model, x), atol=1e-6)


def test_replace_layers_reaches_nested_models_and_keeps_sequential():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="a"), layers.Dense(3, name="b")], name="inner")
    inputs = keras.Input((4,))
    outer = keras.Model(inputs, layers.Dense(2, name="c")(inner(inputs)))

    def negate(layer):
        if layer.name != "b":
            return None
        new = layers.Dense(3, name="b")
        new.build((None, 3))
        new.set_weights([-w for w in layer.get_weights()])
        return new

    edited = graph.replace_layers(outer, negate)
    new_b = edited.get_layer("inner").get_layer("b")
    np.testing.assert_array_equal(new_b.kernel.numpy(), -inner.get_layer("b").kernel.numpy())
    np.testing.assert_array_equal(edited.get_layer("c").kernel.numpy(), outer.get_layer("c").kernel.numpy())
    assert isinstance(graph.replace_layers(inner, negate), keras.Sequential)
    assert [layer.name for layer in graph.leaf_layers(outer)][-3:] == ["a", "b", "c"]


def test_fold_batch_normalization_with_and_without_bias_skips_shared_outputs():
    inputs = keras.Input((6, 6, 2))
    x = layers.BatchNormalization(name="bn_a")(layers.Conv2D(3, 3, name="conv_a")(inputs))
    x = layers.Conv2D(3, 1, use_bias=False, name="conv_b")(layers.ReLU()(x))
    y = layers.Conv2D(3, 1, name="conv_c")(x)  # conv_b's output also feeds conv_c: bn_b stays
    z = layers.BatchNormalization(name="bn_c")(y)
    model = keras.Model(inputs, layers.Add()([layers.BatchNormalization(name="bn_b")(x), z]))
    rng = np.random.default_rng(1)
    for norm in (model.get_layer(name) for name in ("bn_a", "bn_b", "bn_c")):
        norm.set_weights([rng.uniform(0.5, 2.0, 3).astype("float32") for _ in norm.weights])
    folded, renamed = graph.fold_batch_normalization(model)
    assert renamed == {"bn_a": "conv_a", "bn_c": "conv_c"}
    assert folded.get_layer("bn_b") is model.get_layer("bn_b")
    assert folded.get_layer("conv_a").use_bias and not folded.get_layer("conv_b").use_bias
    x = data()
    np.testing.assert_allclose(run(folded, x), run(model, x), rtol=1e-5, atol=1e-5)


def test_split_softmax_finds_the_logits():
    model = tiny_model()
    x = data()
    logits_model, to_probabilities = graph.split_softmax(model)
    logits = run(logits_model, x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(to_probabilities(logits)), run(model, x), atol=1e-6)
    assert logits_model.inputs[0] is model.inputs[0]
    nested_inputs = keras.Input((6, 6, 2))
    nested = keras.Model(nested_inputs, layers.Softmax()(graph.clone(model, linear={"head"})(nested_inputs)))
    inner_logits, softmax = graph.split_softmax(keras.Sequential([keras.Input((6, 6, 2)), nested]))
    assert isinstance(softmax, layers.Softmax)
    np.testing.assert_allclose(run(inner_logits, x), logits, atol=1e-5)
    assert graph.split_softmax(graph.clone(model, linear={"head"})) is None
