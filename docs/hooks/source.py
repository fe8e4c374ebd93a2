"""MkDocs hook: ``<!-- source: minigrad.ops.activation.Sigmoid -->`` shows that object's source.

The comment line is replaced by a fenced Python block holding the object's current source (found
with ``inspect``, by name), titled with its file and line numbers. The code on the page is
therefore always the code that runs; a name that no longer resolves fails the build.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from pathlib import Path

from mkdocs.exceptions import PluginError

DIRECTIVE = re.compile(r"^<!-- source: (?P<name>[\w.]+) -->$", re.MULTILINE)


def resolve(name: str) -> object:
    """The object a dotted name points to: the longest importable module, then attributes."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = inspect.getattr_static(obj, attr)
            obj = getattr(obj, "__func__", obj)  # staticmethod, classmethod
        return obj
    raise ModuleNotFoundError(name)


def listing(name: str) -> str:
    """A fenced block with the source of ``name``, titled with its file and lines."""
    try:
        obj = resolve(name)
        lines, first = inspect.getsourcelines(obj)
        package = importlib.import_module(name.partition(".")[0])
        top = Path(package.__file__).resolve().parents[1]  # the folder holding the package
        path = Path(inspect.getsourcefile(obj)).resolve().relative_to(top)
    except (ImportError, AttributeError, TypeError, OSError, ValueError) as error:
        raise PluginError(f"<!-- source: {name} -->: cannot show its source ({error})") from error
    code = textwrap.dedent("".join(lines)).rstrip("\n")
    last = first + len(lines) - 1
    return f'```python title="{path.as_posix()}, lines {first}-{last}"\n{code}\n```'


def on_page_markdown(markdown: str, **_: object) -> str:
    return DIRECTIVE.sub(lambda m: listing(m["name"]), markdown)
