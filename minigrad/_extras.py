"""The optional extras and the one way every message says how to install a missing one."""

from __future__ import annotations

# extra -> the package it brings (as named in pyproject.toml's optional dependencies)
EXTRAS = {"plot": "matplotlib", "image": "Pillow", "mpi": "mpi4py"}


def install_hint(purpose: str, extra: str) -> str:
    """``"<purpose> needs <package>: pip install 'minigrad[<extra>]'"``.

    Example:
        >>> install_hint("curves.png", "plot")
        "curves.png needs matplotlib: pip install 'minigrad[plot]'"
    """
    return f"{purpose} needs {EXTRAS[extra]}: pip install 'minigrad[{extra}]'"
