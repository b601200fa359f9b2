"""griffe extension: read a docstring's `Example:` section as Google style's `Examples:`.

autonas's docstrings title their doctest section `Example:` (as Google's style guide and
Sphinx's napoleon allow); griffe only knows `Examples:` and would render the doctest lines as
markdown (`>>>` as nested quotes). Loaded by mkdocstrings from mkdocs.yml.
"""
import re

import griffe

_EXAMPLE_TITLE = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE_TITLE.sub(r"\1Examples:", obj.docstring.value)
