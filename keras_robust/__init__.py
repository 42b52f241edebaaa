"""keras_robust: image classifiers robust to noise, blur, weather and compression.

The main entry points are importable from the package itself; each is loaded
on first use, so `import keras_robust` (and `robust-cli --help`) stays fast:

- `keras_robust.benchmark(...)` -> `BenchmarkResult`: models on clean and
  corrupted images, E, mCE and rCE (`keras_robust.benchmarking`);
- `keras_robust.corrupt`, `distort`, `get_distortion`, `list_distortions`:
  the corruptions and distortions (`keras_robust.corruptions`);
- `keras_robust.resolve_model`, `load_model`, `save_model`, `list_models`:
  models by builder name or `.keras` file (`keras_robust.models`,
  `keras_robust.applications`);
- `keras_robust.PushPull2D`, `CorrectionUnit`, `ChannelCorrection`: the layers;
- `keras_robust.load_cifar10_sample`, `load_images`: data.

Example:

>>> import keras_robust
>>> keras_robust.corrupt.__name__
'corrupt'
"""

import importlib

__version__ = "0.1.0"

_ENTRY_POINTS = {
    "benchmark": "keras_robust.benchmarking",
    "BenchmarkResult": "keras_robust.benchmarking",
    "corrupt": "keras_robust.corruptions",
    "distort": "keras_robust.corruptions",
    "get_distortion": "keras_robust.corruptions",
    "list_distortions": "keras_robust.corruptions",
    "resolve_model": "keras_robust.models",
    "load_model": "keras_robust.models",
    "save_model": "keras_robust.models",
    "list_models": "keras_robust.applications",
    "PushPull2D": "keras_robust.layers",
    "CorrectionUnit": "keras_robust.layers",
    "ChannelCorrection": "keras_robust.layers",
    "load_cifar10_sample": "keras_robust.datasets",
    "load_images": "keras_robust.datasets",
    "Result": "keras_robust.results",
}
_SUBMODULES = ("applications", "benchmarking", "corruptions", "datasets", "deepcorrect", "layers", "metrics",
               "models", "pushpull", "results", "training", "transfer")

__all__ = [*_ENTRY_POINTS, *_SUBMODULES]


def __getattr__(name):
    if name in _ENTRY_POINTS:
        value = getattr(importlib.import_module(_ENTRY_POINTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"keras_robust.{name}")
    else:
        raise AttributeError(f"module 'keras_robust' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
