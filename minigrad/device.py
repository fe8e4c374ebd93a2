"""A CPU-only device API, so that device-agnostic PyTorch code runs unchanged.

minigrad computes with NumPy on the CPU. ``minigrad.device("cpu")``, ``.to(device)``,
``.cpu()`` and ``device=`` arguments are accepted and change nothing; asking for CUDA (or
any other accelerator) raises a ``RuntimeError`` that says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Device", "check_device", "device", "parse_to"]

_CPU_ONLY = "minigrad runs on the CPU only (no CUDA); use 'cpu' or leave device unset"


class Device:
    """A device; the only one is the CPU.

    Example:
        >>> Device("cpu")
        device(type='cpu')
    """

    __slots__ = ("type",)

    def __init__(self, type: str = "cpu") -> None:
        self.type = type

    def __repr__(self) -> str:
        return f"device(type={self.type!r})"

    def __str__(self) -> str:
        return self.type

    def __eq__(self, other: object) -> bool:
        other_type = other.type if isinstance(other, Device) else other
        return other_type == self.type

    def __hash__(self) -> int:
        return hash(self.type)


def device(spec: Any = "cpu") -> Device:
    """``minigrad.device("cpu")``; any other device raises ``RuntimeError``.

    Example:
        >>> device("cpu") == "cpu"
        True
    """
    check_device("device", spec)
    return Device("cpu")


def _is_device(spec: Any) -> bool:
    """Whether ``spec`` names a device (rather than a dtype)."""
    if isinstance(spec, Device):
        return True
    if not isinstance(spec, str):
        return False
    kind = spec.split(":", 1)[0]
    return kind in ("cpu", "cuda", "mps", "xpu", "meta") or spec.startswith("cuda")


def check_device(where: str, spec: Any) -> None:
    """Accept ``None``, ``"cpu"`` and ``Device("cpu")``; raise for anything else.

    Example:
        >>> check_device("zeros", "cuda:0")
        Traceback (most recent call last):
        ...
        RuntimeError: zeros: device 'cuda:0': minigrad runs on the CPU only (no CUDA); ...
    """
    if spec is None or (isinstance(spec, Device) and spec.type == "cpu") or spec == "cpu":
        return
    if _is_device(spec):
        raise RuntimeError(f"{where}: device {str(spec)!r}: {_CPU_ONLY}")
    raise TypeError(f"{where}: expected a device such as 'cpu', got {spec!r}")


def parse_to(where: str, args: tuple, kwargs: dict) -> np.dtype | None:
    """The dtype asked for by PyTorch-style ``to(...)`` arguments (``None``: keep it),
    checking every device named along the way.

    Accepts ``to(device)``, ``to(dtype)``, ``to(device, dtype)`` and the
    keywords ``device=``, ``dtype=``, ``non_blocking=``, ``copy=`` (the last two ignored).

    Example:
        >>> parse_to("to", ("cpu", "float64"), {})
        dtype('float64')
    """
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy"}
    if unknown:
        raise TypeError(f"{where}: unexpected keyword arguments {sorted(unknown)}")
    check_device(where, kwargs.get("device"))
    dtype = kwargs.get("dtype")
    if len(args) > 2:
        raise TypeError(f"{where}: takes at most a device and a dtype, got {len(args)} arguments")
    for arg in args:
        if _is_device(arg):
            check_device(where, arg)
        else:
            try:
                dtype = np.dtype(arg)
            except TypeError:
                raise TypeError(f"{where}: expected a device or a dtype, got {arg!r}") from None
    return None if dtype is None else np.dtype(dtype)
