"""Griffe extension for the API page: a Google-style `Example:` section renders as code.

Griffe reads only `Examples:` as an examples section (doctest lines become code blocks); the package's docstrings
use the singular `Example:` (CONTRIBUTING.md), which griffe would render as an admonition whose `>>>` lines are
nested block quotes. This extension renames the section title before the docstring is parsed, and puts every
doctest block (`>>>` lines and the output under them, up to a blank line) in a ```pycon fence, so that it renders as
code wherever griffe does not recognise the section (e.g. the builders' docstrings generated without indentation).
"""

import re

import griffe

SINGULAR = re.compile(r"^(\s*)Example:[ \t]*$", re.M)
DOCTEST = re.compile(r"^([ \t]*)>>> .*?(?=\n[ \t]*\n|\Z)", re.M | re.S)


def fence_doctests(text):
    """`text` with each doctest block wrapped in a ```pycon fence at the block's indentation."""
    if "```" in text:  # already written as fenced code
        return text
    return DOCTEST.sub(lambda m: f"{m[1]}```pycon\n{m[0]}\n{m[1]}```", text)


class ExampleSections(griffe.Extension):
    """Rename `Example:` to `Examples:` in every docstring griffe loads."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(SINGULAR.sub(r"\1Examples:", obj.docstring.value))
