"""The corruption benchmark: `benchmark(...)` evaluates models and returns a `BenchmarkResult`.

`robust-cli benchmark` is a thin command over `benchmark`; the result renders
itself as Markdown, CSV, JSON and PNG figures (`BenchmarkResult.save`).
"""

from keras_robust.benchmarking.evaluation import corruption_errors
from keras_robust.benchmarking.report import BenchmarkResult
from keras_robust.benchmarking.runner import benchmark, corruption_names

__all__ = ["BenchmarkResult", "benchmark", "corruption_errors", "corruption_names"]
