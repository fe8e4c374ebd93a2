"""Gradient clipping: by the total norm of all gradients, or elementwise by value."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from minigrad.tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_value"]


def clip_grad_norm(
    params: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0
) -> float:
    """Scale the gradients in place so that their total norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of all gradients taken together (``math.inf``:
    the largest absolute value); parameters whose ``.grad`` is ``None`` are skipped. When it is
    above ``max_norm`` every gradient array is multiplied in place by
    ``max_norm / (total + 1e-6)`` (PyTorch's formula), so whoever holds a gradient array sees
    the clipped values. Returns the total norm before clipping, as a float.

    Raises:
        FloatingPointError: the total norm is NaN or infinite (no gradient is modified).
        ValueError: ``max_norm`` is negative or NaN, or ``norm_type`` is not positive.

    Example:
        >>> w = Tensor([3.0, 4.0], requires_grad=True); w.grad = np.array([3.0, 4.0], np.float32)
        >>> clip_grad_norm([w], max_norm=1.0), w.grad.round(4)
        (5.0, array([0.6, 0.8], dtype=float32))
    """
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm: max_norm must be >= 0, got {max_norm!r}")
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm: norm_type must be > 0 or math.inf, got {norm_type!r}")
    if isinstance(params, Tensor):
        params = [params]
    grads = [p.grad for p in params if p.grad is not None]
    norm_type = float(norm_type)
    if norm_type == math.inf:
        # Python's max() is order-dependent with NaN, so the per-gradient maxima are checked.
        norms = [float(np.max(np.abs(g))) for g in grads if g.size]
        total = max(norms, default=0.0)
        if not all(math.isfinite(n) for n in norms):
            total = math.nan
    elif norm_type == 2.0:
        total = math.sqrt(sum(float(np.dot(r, r)) for r in (g.reshape(-1) for g in grads)))
    else:
        total = sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1.0 / norm_type)
    if not math.isfinite(total):
        raise FloatingPointError(
            f"clip_grad_norm: the total {norm_type}-norm of the gradients is non-finite "
            f"({total}), so they cannot be clipped; no gradient was changed"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
            g *= coef
    return total


def clip_grad_value(params: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place.

    Unlike :func:`clip_grad_norm` this changes the gradient's direction: each element is
    clamped on its own. Parameters whose ``.grad`` is ``None`` are skipped; NaN stays NaN.

    Raises:
        ValueError: ``clip_value`` is negative or NaN.

    Example:
        >>> w = Tensor([0.0, 0.0, 0.0], requires_grad=True)
        >>> w.grad = np.array([-3.0, 0.5, 2.0], np.float32)
        >>> clip_grad_value([w], 1.0); w.grad
        array([-1. ,  0.5,  1. ], dtype=float32)
    """
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value: clip_value must be >= 0, got {clip_value!r}")
    if isinstance(params, Tensor):
        params = [params]
    for p in params:
        if p.grad is not None:
            np.clip(p.grad, -clip_value, clip_value, out=p.grad)
