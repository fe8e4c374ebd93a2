"""``minigrad.cuda``: there is no GPU support, so device-agnostic code picks the CPU.

Example:
    >>> import minigrad as mg
    >>> mg.device("cuda" if mg.cuda.is_available() else "cpu")
    device(type='cpu')
"""

from __future__ import annotations

__all__ = ["device_count", "is_available"]


def is_available() -> bool:
    """Always ``False``: minigrad runs on the CPU only.

    Example:
        >>> is_available()
        False
    """
    return False


def device_count() -> int:
    """Always 0.

    Example:
        >>> device_count()
        0
    """
    return 0
