"""Griffe extension: read minigrad's docstrings the way they are written.

- ``Example:`` (singular, as every minigrad docstring spells it) is read as an ``Examples:``
  section, so its ``>>>`` lines render as code instead of Markdown (griffe's Google parser
  only knows the plural).
- Sphinx roles (``:class:`Tensor```, ``:func:`sum_to```) render as inline code.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

EXAMPLE_HEADING = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)
SPHINX_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):`~?([^`]+)`")


class MinigradDocstrings(griffe.Extension):
    """Rewrite each docstring before griffe parses it."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            text = EXAMPLE_HEADING.sub(r"\1Examples:", obj.docstring.value)
            obj.docstring.value = SPHINX_ROLE.sub(r"``\1``", text)
