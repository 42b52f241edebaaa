"""Export classifiers as TensorFlow SavedModels that serve logits and probabilities.

Logits rule: the exported model returns `{"logits", "probabilities"}`. If the
model's output layer applies a softmax (a layer whose `activation` is softmax,
such as `Dense(..., activation="softmax")`, or an `Activation("softmax")` /
`Softmax` layer, looked for inside a nested model that is the last layer),
the logits are the values just before that softmax and the probabilities are
that softmax applied to them, the same computation as the model's output
(the model is not run twice). Otherwise the model's outputs are taken to be logits
and the probabilities are their softmax.
"""

import json
from pathlib import Path

from keras_robust.atomic import atomic_output
from keras_robust.models import KERAS_SUFFIX, load_model
from keras_robust.validation import check_images

SERVING_DTYPES = ("float32", "uint8")
METADATA = Path("assets.extra") / "keras_robust.json"


def _check_classifier(model):
    import keras

    if not isinstance(model, keras.Model) or not getattr(model, "outputs", None):
        raise ValueError(
            "Export needs a functional or Sequential keras.Model (a graph of "
            f"layers). Received: {type(model).__name__}"
        )
    if len(model.outputs) != 1 or len(model.inputs) != 1:
        raise ValueError(
            "Export needs a classifier with one image input and one output. "
            f"Received: {len(model.inputs)} inputs, {len(model.outputs)} outputs"
        )
    if len(model.outputs[0].shape) != 2:
        raise ValueError(
            "Export needs a classifier whose output is (batch, classes). "
            f"Received: output shape {tuple(model.outputs[0].shape)}"
        )


def logits_and_softmax(model):
    """`(inputs, logits, to_probabilities)`: symbolic inputs and logits of `model`, and the softmax layer.

    See the module docstring for the rule that finds the logits
    (`keras_robust.graph.split_softmax`).
    """
    import keras

    from keras_robust.graph import as_functional, split_softmax

    _check_classifier(model)
    split = split_softmax(model)
    if split is None:
        functional = as_functional(model)
        return functional.inputs, functional.outputs[0], keras.layers.Softmax(name="probabilities")
    logits_model, to_probabilities = split
    return logits_model.inputs, logits_model.outputs[0], to_probabilities


def serving_model(model):
    """A model from `model`'s input to `{"logits", "probabilities"}`."""
    import keras

    inputs, logits, to_probabilities = logits_and_softmax(model)
    inputs = inputs[0] if len(inputs) == 1 else inputs  # called with one tensor, not a list of one
    return keras.Model(
        inputs, {"logits": logits, "probabilities": to_probabilities(logits)}, name=f"{model.name}_serving"
    )


def _input_shape(model):
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or shape[-1] not in (1, 3):
        raise ValueError(
            "Export needs a model taking images (batch, height, width, channels) "
            "with 3 (RGB) or 1 (gray) channels. "
            f"Received: input shape {tuple(model.inputs[0].shape)}"
        )
    return shape


def export_saved_model(model, path, *, class_names=None, overwrite=False):
    """Write `model` as a TensorFlow SavedModel serving logits and probabilities.

    The SavedModel's `serve` function takes a batch of RGB images (gray for
    one-channel models such as LeNet) of any batch size, `uint8` or `float32` pixel values in [0, 255], and returns a
    dict with `"logits"` and `"probabilities"` (see the module docstring for
    how logits are found). Signatures for TF Serving: `serving_default`
    (float32) and `serving_uint8`. `tf.saved_model.load(path).serve(images)`
    and `keras.layers.TFSMLayer(path, call_endpoint="serve")` both work. The
    model is served in its inference form
    (`keras_robust.serving.optimize_for_inference`: batch normalization
    folded into the convolutions, DeepCorrect units as plain convolutions),
    the same predictions up to float32 round-off. The
    folder is written beside `path` and renamed into place: a failed export
    leaves nothing behind.

    Args:
        model: a functional or Sequential `keras.Model` taking raw RGB (or
            gray) pixels.
        path: the SavedModel folder to write.
        class_names: optional list of class names, stored in
            `assets.extra/keras_robust.json` for `robust-cli predict`.
        overwrite: bool. If `False`, an existing `path` is refused.

    Example:

    >>> import os, tempfile, keras
    >>> from keras_robust.layers import PushPull2D
    >>> inputs = keras.Input((8, 8, 3))
    >>> x = keras.layers.GlobalAveragePooling2D()(PushPull2D(4, 3)(inputs))
    >>> model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    >>> path = os.path.join(tempfile.mkdtemp(), "served")
    >>> export_saved_model(model, path)
    >>> sorted(os.listdir(path))
    ['.keras_robust-output', 'assets', 'assets.extra', 'fingerprint.pb', 'saved_model.pb', 'variables']
    """
    import keras
    import tensorflow as tf

    from keras_robust.serving import optimize_for_inference

    input_shape = _input_shape(model)
    served = serving_model(optimize_for_inference(model))
    classes = served.outputs[0].shape[-1]
    if class_names is not None and len(class_names) != classes:
        raise ValueError(
            f"`class_names` must name the model's {classes} classes. "
            f"Received: {len(class_names)} names"
        )

    def run(images):
        return served(keras.ops.cast(images, "float32"))

    archive = keras.export.ExportArchive()
    archive.track(served)
    specs = {dtype: keras.InputSpec(shape=(None, *input_shape), dtype=dtype) for dtype in SERVING_DTYPES}
    by_dtype = {
        dtype: archive.add_endpoint(
            "serving_default" if dtype == "float32" else f"serving_{dtype}", run, input_signature=[spec]
        )
        for dtype, spec in specs.items()
    }

    @tf.function(autograph=False)
    def serve(images):
        return by_dtype[images.dtype.name](images)

    for dtype in SERVING_DTYPES:
        serve.get_concrete_function(tf.TensorSpec((None, *input_shape), dtype))
    archive.add_endpoint("serve", serve)
    metadata = {
        "model": model.name,
        "input_shape": list(input_shape),
        "input_dtypes": list(SERVING_DTYPES),
        "outputs": ["logits", "probabilities"],
        "class_names": list(class_names) if class_names is not None else None,
    }
    with atomic_output(path, overwrite=overwrite) as tmp:
        archive.write_out(str(tmp), verbose=False)
        (tmp / METADATA).parent.mkdir(exist_ok=True)
        (tmp / METADATA).write_text(json.dumps(metadata, indent=2))


class Classifier:
    """An exported SavedModel, a `.keras` file or a builder name, ready to classify images.

    Args:
        path: a folder written by `export_saved_model` (or any SavedModel
            whose `serve` function returns `logits` and `probabilities`), a
            `.keras` file (loaded with `load_model`, safe mode), or a builder
            name of `keras_robust.applications` (with its default weights:
            the shipped pretrained ones where they exist, whose class names
            it then knows).

    Attributes:
        input_shape: `(height, width, channels)` of the images it takes.
        class_names: list of class names, or `None` if unknown.

    Example:

    >>> import os, tempfile, keras, numpy as np
    >>> inputs = keras.Input((8, 8, 3))
    >>> x = keras.layers.GlobalAveragePooling2D()(inputs)
    >>> model = keras.Model(inputs, keras.layers.Dense(2)(x))
    >>> path = os.path.join(tempfile.mkdtemp(), "served")
    >>> export_saved_model(model, path)
    >>> Classifier(path)(np.zeros((1, 8, 8, 3), "uint8"))["probabilities"].shape
    (1, 2)
    """

    def __init__(self, path):
        from keras_robust.model_names import canonical_name

        self.path = Path(path)
        if not self.path.exists() and canonical_name(path):
            self._load_builder(canonical_name(path))
        elif not self.path.exists():
            raise FileNotFoundError(
                f"No model at {self.path}. Expected an exported SavedModel folder, a {KERAS_SUFFIX} file "
                "or a builder name of keras_robust.applications."
            )
        elif self.path.is_dir():
            self._load_saved_model()
        elif self.path.suffix == KERAS_SUFFIX:
            self._load_keras()
        else:
            raise ValueError(
                "Expected an exported SavedModel folder or a "
                f"{KERAS_SUFFIX} file. Received: {self.path}"
            )

    def _load_saved_model(self):
        import tensorflow as tf

        if not (self.path / "saved_model.pb").is_file():
            raise ValueError(f"{self.path} is not a SavedModel folder (no saved_model.pb).")
        loaded = tf.saved_model.load(str(self.path))
        if not hasattr(loaded, "serve"):
            raise ValueError(f"{self.path} has no `serve` function; export it with robust-cli export.")
        metadata_path = self.path / METADATA
        metadata = json.loads(metadata_path.read_text()) if metadata_path.is_file() else {}
        spec = loaded.signatures["serving_default"].structured_input_signature[1]
        self.input_shape = tuple(metadata.get("input_shape") or next(iter(spec.values())).shape[1:])
        self.class_names = metadata.get("class_names")
        self._loaded = loaded  # `serve` needs the loaded object's variables alive
        self._run = lambda images: loaded.serve(tf.constant(images))

    def _load_keras(self):
        self._serve(load_model(self.path, compile=False), class_names=None)

    def _load_builder(self, name):
        from keras_robust.models import pretrained_record, resolve_model

        record = pretrained_record(name)
        self._serve(resolve_model(name), class_names=list(record.class_names) if record else None)

    def _serve(self, model, class_names):
        served = serving_model(model)
        self.input_shape = _input_shape(model)
        self.class_names = class_names
        self._run = lambda images: served(images.astype("float32"), training=False)

    def __call__(self, images):
        """`{"logits", "probabilities"}` numpy arrays for a batch of images."""
        images = check_images(images, self.input_shape)
        return {key: value.numpy() if hasattr(value, "numpy") else value
                for key, value in self._run(images).items()}
