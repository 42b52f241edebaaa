"""Griffe extension for the API page: a Google-style `Example:` section renders as code.

Griffe reads only `Examples:` as an examples section (doctest lines become code blocks); the package's docstrings
use the singular `Example:` (CONTRIBUTING.md), which griffe would render as an admonition whose `>>>` lines are
nested block quotes. This extension renames the section title before the docstring is parsed.
"""

import re

import griffe

SINGULAR = re.compile(r"^(\s*)Example:[ \t]*$", re.M)


class ExampleSections(griffe.Extension):
    """Rename `Example:` to `Examples:` in every docstring griffe loads."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = SINGULAR.sub(r"\1Examples:", obj.docstring.value)
