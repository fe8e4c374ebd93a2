"""``minigrad.accelerator``: PyTorch's accelerator queries, answering that there is none.

Example:
    >>> import minigrad as mg
    >>> mg.accelerator.current_accelerator() if mg.accelerator.is_available() else "cpu"
    'cpu'
"""

from __future__ import annotations

__all__ = ["current_accelerator", "is_available"]


def is_available() -> bool:
    """Always ``False``: minigrad runs on the CPU only.

    Example:
        >>> is_available()
        False
    """
    return False


def current_accelerator() -> None:
    """Always ``None`` (there is no accelerator).

    Example:
        >>> current_accelerator() is None
        True
    """
    return None
