"""Turn what a user names into a model: safe `.keras` loading, builder names.

`load_model` is the one way the package reads `.keras` files: always with
`safe_mode=True`, after checking the archive, and refusing `Lambda` layers
and classes that are neither Keras's nor registered. `resolve_model` accepts
"a builder name (case-insensitive) or a .keras file or a keras.Model", for
every command that takes a model and for the benchmark.
"""

import json
import os
import zipfile
from pathlib import Path

from keras_robust.atomic import atomic_output

KERAS_SUFFIX = ".keras"
# `resolve_model`'s `weights` for "what the builder loads by default".
DEFAULT_WEIGHTS = "default"


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


# Bounds of what is read from a .keras archive before Keras sees it (a zip bomb is refused from its directory).
MAX_ENTRIES = 10_000
MAX_CONFIG_BYTES = 64 * 2**20
MAX_ARCHIVE_BYTES = 16 * 2**30
MAX_MESSAGE = 400  # characters of a message built from file content


def _clip(text, limit=MAX_MESSAGE):
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _check_sizes(path, archive):
    entries = archive.infolist()
    total = sum(entry.file_size for entry in entries)
    config = next((entry for entry in entries if entry.filename == "config.json"), None)
    if len(entries) > MAX_ENTRIES or total > MAX_ARCHIVE_BYTES or (config and config.file_size > MAX_CONFIG_BYTES):
        raise ValueError(
            f"Refusing {path}: too large to be a model file (at most {MAX_ENTRIES} entries, "
            f"{MAX_ARCHIVE_BYTES // 2**30} GiB unpacked, a {MAX_CONFIG_BYTES // 2**20} MiB config.json). Received: "
            f"{len(entries)} entries, {total} bytes unpacked, config.json {config.file_size if config else 0} bytes")


def _read_config(path):
    try:
        with zipfile.ZipFile(path) as archive:
            _check_sizes(path, archive)
            broken = archive.testzip()
            if broken is not None:
                raise zipfile.BadZipFile(f"bad CRC in {broken}")
            with archive.open("config.json") as file:  # zipfile never returns more than the declared size
                return json.loads(file.read(MAX_CONFIG_BYTES + 1))
    except (zipfile.BadZipFile, KeyError, EOFError, OSError, UnicodeDecodeError, json.JSONDecodeError,
            RecursionError) as error:
        raise ValueError(
            f"{path} is not a readable .keras file (a zip archive holding "
            f"config.json and weights); it may be truncated or corrupt: {_clip(error)}"
        ) from None


def _root_cause(error):
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__
    return _clip(str(error).strip().splitlines()[0]) if str(error).strip() else type(error).__name__


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
    import keras_robust.layers  # noqa: F401  (registers every keras_robust class before loading)
    import keras_robust.optimizers  # noqa: F401  (the optimizer that `fit` compiles models with)

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


def resolve_model(spec, weights=DEFAULT_WEIGHTS, **builder_options):
    """The model named by `spec`: a builder name, a `.keras` file or a `keras.Model`.

    Args:
        spec: a builder name of `keras_robust.applications.list_models()`
            (case-insensitive, e.g. `"resnet20pp"`), or the path of a
            `.keras` file (loaded with `load_model`), or a `keras.Model`
            (returned as is).
        weights: for builder names, `"default"` (what the builder loads by
            default: its shipped pretrained weights where some exist, like
            `keras.applications`), `None` (random initialisation), the name
            of shipped weights (`"cifar10"`) or the path of a weights file.
            A `.keras` file and a `keras.Model` hold their own weights, so
            they take only `"default"` (or `None`).
        **builder_options: for builder names, other arguments of the
            builder (`classes`, `input_shape`, `include_top`, `alpha`, ...).

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: an unknown name (the message lists the accepted ones),
            weights for a `.keras` file or a model, or an unreadable file.
        FileNotFoundError: a `.keras` path with no file.

    Example:

    >>> from keras_robust.models import resolve_model
    >>> resolve_model("resnet20pp").name
    'resnet20_pp'
    >>> resolve_model("ResNet20", weights=None).count_params()
    274042
    """
    import keras

    from keras_robust.applications import get_builder, list_models

    own_weights = holds_weights(spec)
    if own_weights and weights not in (DEFAULT_WEIGHTS, None):
        raise ValueError(
            f"A {KERAS_SUFFIX} file or a keras.Model holds its own weights; `weights` applies to builder "
            f"names only. Received: spec={spec if isinstance(spec, (str, os.PathLike)) else type(spec).__name__}, "
            f"weights={weights!r}"
        )
    if own_weights and builder_options:
        raise ValueError(
            f"Builder arguments apply to builder names only, not to a {KERAS_SUFFIX} file or a keras.Model. "
            f"Received: {', '.join(f'{key}={value!r}' for key, value in builder_options.items())}"
        )
    if isinstance(spec, keras.Model):
        return spec
    if own_weights:
        return load_model(spec)
    if not isinstance(spec, str):
        raise ValueError(
            f"`spec` must be a builder name, the path of a {KERAS_SUFFIX} file or a keras.Model. "
            f"Received: spec={spec!r} of type {type(spec).__name__}"
        )
    try:
        builder = get_builder(spec)
    except ValueError:
        raise ValueError(
            f"Unknown model {spec!r}: no such {KERAS_SUFFIX} file or builder. Expected a {KERAS_SUFFIX} file "
            f"or one of: {', '.join(list_models())}."
        ) from None
    if weights != DEFAULT_WEIGHTS:
        builder_options["weights"] = weights
    return builder(**builder_options)


def holds_weights(spec):
    """Whether `spec` is a `keras.Model` or names a `.keras` file (rather than a builder)."""
    if hasattr(spec, "layers"):
        return True
    return isinstance(spec, (str, os.PathLike)) and (str(spec).endswith(KERAS_SUFFIX) or Path(spec).exists())


def model_names(specs):
    """One name per model spec, in order, for tables and reports.

    A builder name names itself, a `keras.Model` by its `name`, a file by its
    stem; files that share a stem (`s0/best.keras`, `s1/best.keras`) are
    named by as many of their last path parts as tell them apart (`s0/best`,
    `s1/best`).

    Raises:
        ValueError: the same model given twice, or two models that nothing
            tells apart (the message names them).
    """
    specs = list(specs)
    keys = [spec if hasattr(spec, "layers") else os.path.normpath(os.fspath(spec)) for spec in specs]
    for i, key in enumerate(keys):
        if any(key is other or (isinstance(key, str) and key == other) for other in keys[:i]):
            raise ValueError(f"The same model is given twice: {_describe(specs[i])}. Give each model once.")
    parts = [Path(key).with_suffix("").parts if holds_weights(spec) and isinstance(key, str) else None
             for spec, key in zip(specs, keys)]
    depth = [1] * len(specs)

    def name(i):
        if parts[i] is not None:
            return "/".join(parts[i][-depth[i]:])
        return specs[i].name if hasattr(specs[i], "layers") else str(specs[i])

    while True:
        names = [name(i) for i in range(len(specs))]
        clashes = [i for i in range(len(specs)) if names.count(names[i]) > 1]
        if not clashes:
            return names
        growable = [i for i in clashes if parts[i] is not None and depth[i] < len(parts[i])]
        if not growable:
            first = clashes[0]
            raise ValueError(
                f"Two models would share the name {names[first]!r}: "
                f"{', '.join(_describe(specs[i]) for i in clashes if names[i] == names[first])}. "
                f"Give them distinct names (rename a file, or set a keras.Model's `name`)."
            )
        for i in growable:
            depth[i] += 1


def _describe(spec):
    return f"keras.Model {spec.name!r}" if hasattr(spec, "layers") else repr(os.fspath(spec))


def pretrained_record(spec, weights=DEFAULT_WEIGHTS):
    """The `PretrainedWeights` record that `resolve_model(spec, weights)` loads, or `None`.

    Example:

    >>> from keras_robust.models import pretrained_record
    >>> pretrained_record("ResNet20PP").recipe
    'resnet'
    >>> pretrained_record("ResNet20PP", weights=None) is None
    True
    """
    import inspect

    from keras_robust.applications import BUILDERS, pretrained_weights

    by_lower = {name.lower(): name for name in BUILDERS}
    name = by_lower.get(spec.lower()) if isinstance(spec, str) else None
    if name is None:
        return None
    if weights == DEFAULT_WEIGHTS:
        weights = inspect.signature(BUILDERS[name]).parameters["weights"].default
    return pretrained_weights(name, weights) if isinstance(weights, str) else None


def class_names(weights, classes):
    """Names of a model's `classes` classes, read from the `PretrainedWeights` records, else indices.

    Args:
        weights: the model's `PretrainedWeights` record (see
            `pretrained_record`), the name of shipped weights (`"cifar10"`:
            the class names its records share), or `None`.
        classes: int, the number of classes of the model's output.

    Example:

    >>> from keras_robust.models import class_names, pretrained_record
    >>> class_names(pretrained_record("ResNet20"), 10)[1]
    'automobile'
    >>> class_names(None, 3)
    ['0', '1', '2']
    """
    from keras_robust.applications import WEIGHTS, PretrainedWeights

    records = [weights] if isinstance(weights, PretrainedWeights) else [
        record for record in WEIGHTS.values() if record.name == weights
    ]
    names = {record.class_names for record in records if record.classes == classes}
    return list(names.pop()) if len(names) == 1 else [str(index) for index in range(classes)]
