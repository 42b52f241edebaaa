"""MkDocs hook: the API page lists every public object of each module named in it.

A line `<!-- api keras_robust.layers -->` becomes one mkdocstrings directive (`::: keras_robust.layers.Name`) per
name of the module's `__all__` (or, without `__all__`, per public function and class defined in the module), so a
heading, an anchor and a signature exist for every public object and a new one cannot be forgotten.
"""

import importlib
import inspect
import re

MARKER = re.compile(r"^<!-- api ([\w.]+) -->$", re.M)


def public_names(module_name):
    """Names of the public objects of `module_name`, sorted, modules excluded."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name, value in vars(module).items()
                 if not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
                 and value.__module__ == module_name]
    return sorted((n for n in names if not inspect.ismodule(getattr(module, n))), key=str.lower)


def directives(match):
    module_name = match[1]
    return "\n\n".join(f"::: {module_name}.{name}" for name in public_names(module_name))


def on_page_markdown(markdown, page, **kwargs):
    return MARKER.sub(directives, markdown)
