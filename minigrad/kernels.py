"""Two tiers of kernels: readable reference rules, and fast kernels for the same ops.

Every operation has one **reference** rule in ``minigrad/ops/``: plain NumPy on the arrays as
the math is written, the rule the docs derive and a learner steps through in a debugger. A few
hot operations (conv2d, max/avg pooling, batchnorm, ReLU) also have a **fast** kernel in the
private package ``minigrad._kernels``: same inputs, same outputs, same gradients (tested equal),
but with the batch axis stored innermost in memory and large buffers reused. Fast is the
default; switch with :func:`use`, for the whole thread or for a block::

    import minigrad as mg
    mg.kernels.use("reference")            # from now on, in this thread
    with mg.kernels.use("fast"):           # only inside the block
        ...

The tier is read when an operation runs forward and stays with the graph node it records, so a
backward always runs the rule its forward ran, whatever the tier is by then. Like grad mode, the
setting belongs to the thread that makes it.

The fast tier keeps the large arrays it frees (at most ``LIMIT_BYTES`` per thread) to hand them
out again instead of asking the operating system for fresh memory at every step;
:func:`cache_info` tells how much that is and :func:`release` gives it back.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar

__all__ = ["TIERS", "cache_info", "current", "fast_kernel", "pick", "release", "use"]

#: The kernel tiers, fastest first: what :func:`use` accepts.
TIERS = ("fast", "reference")
_F = TypeVar("_F", bound=type)


class _Tier(threading.local):
    name = "fast"


_tier = _Tier()
# reference Function class -> its fast kernel (registered by minigrad._kernels)
_fast: dict[type, type] = {}


class use:
    """Choose the kernel tier: ``"fast"`` (the default) or ``"reference"``.

    Takes effect at once for the calling thread; used as a context manager, the previous tier
    comes back when the block ends.

    Example:
        >>> import minigrad as mg
        >>> with mg.kernels.use("reference"):
        ...     mg.kernels.current()
        'reference'
        >>> mg.kernels.current()
        'fast'
    """

    def __init__(self, tier: str) -> None:
        if tier not in TIERS:
            raise ValueError(f"kernels.use: tier must be one of {TIERS}, got {tier!r}")
        self._previous = _tier.name
        _tier.name = tier

    def __enter__(self) -> use:
        return self

    def __exit__(self, *exc_info: object) -> None:
        _tier.name = self._previous


def current() -> str:
    """The tier operations of this thread run on now.

    Example:
        >>> current()
        'fast'
    """
    return _tier.name


def pick(reference: _F) -> _F:
    """The ``Function`` to run for the op whose reference rule is ``reference``: its fast
    kernel on the fast tier when it has one, else the reference rule itself.

    Example:
        >>> from minigrad.ops.conv import Conv2d
        >>> with use("reference"):
        ...     pick(Conv2d) is Conv2d
        True
    """
    if _tier.name == "fast":
        return _fast.get(reference, reference)  # type: ignore[return-value]
    return reference


def fast_kernel(reference: type) -> Any:
    """Class decorator: register the decorated ``Function`` as the fast kernel of
    ``reference``. A fast kernel subclasses its reference rule, so it carries the op's name.
    """

    def register(kernel: _F) -> _F:
        if not issubclass(kernel, reference):
            raise TypeError(f"{kernel.__name__} must subclass its reference rule")
        if reference in _fast:
            raise ValueError(f"{reference.__name__} already has a fast kernel")
        _fast[reference] = kernel
        return kernel

    return register


def cache_info() -> dict[str, int]:
    """What the fast tier's buffer cache holds for this thread, in bytes: ``"idle"`` (kept for
    reuse), ``"total"`` (idle plus handed out and still in use) and ``"limit"``.

    Example:
        >>> sorted(cache_info())
        ['idle', 'limit', 'total']
    """
    from minigrad._kernels import workspace

    return workspace.info()


def release() -> None:
    """Give the fast tier's idle buffers (this thread's) back to the memory allocator.

    Arrays still in use stay valid; they are simply not kept for reuse when they are freed.

    Example:
        >>> release(); cache_info()["idle"]
        0
    """
    from minigrad._kernels import workspace

    workspace.clear()
