"""Turn what a user names into a model: safe `.keras` loading, builder names.

`load_model` is the one way the package reads `.keras` files: always with
`safe_mode=True`, after checking the archive, and refusing `Lambda` layers
and classes that are neither Keras's nor registered. `resolve_model` accepts
"a builder name with weights, or a .keras file", for every command that
takes a model.
"""

import importlib
import json
import zipfile
from pathlib import Path

from keras_robust.atomic import atomic_output

KERAS_SUFFIX = ".keras"
# Modules that register keras_robust classes; imported before loading so that
# files holding those classes deserialize.
REGISTERING_MODULES = ("keras_robust.layers", "keras_robust.applications", "keras_robust.deepcorrect")


def _register_package_classes():
    for name in REGISTERING_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise


def _layer_configs(config):
    """Every nested dict of a saved config that names a class."""
    if isinstance(config, dict):
        if "class_name" in config:
            yield config
        for value in config.values():
            yield from _layer_configs(value)
    elif isinstance(config, list):
        for value in config:
            yield from _layer_configs(value)


def _read_config(path):
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            if broken is not None:
                raise zipfile.BadZipFile(f"bad CRC in {broken}")
            return json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, EOFError, OSError, UnicodeDecodeError, ValueError) as error:
        raise ValueError(
            f"{path} is not a readable .keras file (a zip archive holding "
            f"config.json and weights); it may be truncated or corrupt: {error}"
        ) from None


def _root_cause(error):
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def load_model(path, compile=True):
    """Load a `.keras` file safely (`safe_mode=True`).

    Args:
        path: path of a `.keras` file.
        compile: bool, passed to `keras.saving.load_model`.

    Returns:
        The `keras.Model`.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: not a `.keras` file, a truncated or corrupt archive, a
            `Lambda` layer (it would run arbitrary code), or a class that is
            neither Keras's nor registered with
            `keras.saving.register_keras_serializable`.

    Example:

    >>> import os, tempfile, keras
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.keras")
    >>> inputs = keras.Input((4,))
    >>> save_model(keras.Model(inputs, keras.layers.Dense(2)(inputs)), path)
    >>> load_model(path).output_shape
    (None, 2)
    """
    import keras

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {path}. Expected a {KERAS_SUFFIX} file.")
    if path.suffix != KERAS_SUFFIX:
        raise ValueError(f"Expected a {KERAS_SUFFIX} file. Received: {path}")
    classes = {entry["class_name"] for entry in _layer_configs(_read_config(path))}
    if "Lambda" in classes:
        raise ValueError(
            f"Refusing to load {path}: it holds a Lambda layer, which runs "
            "arbitrary Python code. Only models made of Keras layers and "
            "registered layers (keras_robust's are) can be loaded."
        )
    _register_package_classes()
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as error:  # Keras raises TypeError, ValueError, OSError, ...
        raise ValueError(f"Cannot load {path} (safe_mode=True): {_root_cause(error)}") from None


def save_model(model, path, overwrite=False):
    """Save `model` as a `.keras` file, atomically.

    Args:
        model: a `keras.Model`.
        path: path ending in `.keras`.
        overwrite: bool. If `False`, an existing file is refused.
    """
    if Path(path).suffix != KERAS_SUFFIX:
        raise ValueError(f"A model file must end in {KERAS_SUFFIX}. Received: {path}")
    with atomic_output(path, overwrite=overwrite, suffix=KERAS_SUFFIX) as tmp:
        model.save(tmp)


def builders():
    """`{name: builder}` of every model the package builds."""
    from keras_robust.applications import BUILDERS

    return BUILDERS


def resolve_model(spec, weights=None, **options):
    """The model named by `spec`: a builder name or a `.keras` file.

    Args:
        spec: a builder name of `keras_robust.applications.BUILDERS`
            (case-insensitive, e.g. `"ResNet20PP"`), or the path of a
            `.keras` file (loaded with `load_model`), or a `keras.Model`
            (returned as is).
        weights: for builder names, the builder's `weights` argument
            (`None`, `"cifar10"` or a weights file); must be `None` for a
            `.keras` file, which holds its weights.
        **options: other arguments of the builder (e.g. `input_shape`,
            `classes`), for builder names only.

    Returns:
        A `keras.Model`.

    Example:

    >>> resolve_model("resnet20", weights=None).name
    'resnet20'
    """
    import keras

    if options and (isinstance(spec, keras.Model) or str(spec).endswith(KERAS_SUFFIX) or Path(str(spec)).exists()):
        raise ValueError(f"Builder arguments apply to builder names only. Received: {spec} with {sorted(options)}")
    if isinstance(spec, keras.Model):
        return spec
    spec = str(spec)
    if spec.endswith(KERAS_SUFFIX) or Path(spec).exists():
        if weights is not None:
            raise ValueError(
                f"A {KERAS_SUFFIX} file holds its own weights; weights apply to "
                f"builder names only. Received: {spec} with weights={weights!r}"
            )
        return load_model(spec)
    by_name = {name.lower(): builder for name, builder in builders().items()}
    if spec.lower() not in by_name:
        raise ValueError(
            f"Unknown model {spec!r}. Expected a {KERAS_SUFFIX} file or one of: "
            f"{', '.join(builders())}."
        )
    return by_name[spec.lower()](weights=weights, **options)


def class_names(weights, classes):
    """Names of a model's classes: CIFAR-10's for `weights="cifar10"`, else indices."""
    from keras_robust.datasets.cifar10_jpeg import CIFAR10_CLASSES

    if weights == "cifar10" and classes == len(CIFAR10_CLASSES):
        return list(CIFAR10_CLASSES)
    return [str(index) for index in range(classes)]
