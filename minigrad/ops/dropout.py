"""Inverted dropout: zero each input with probability ``p`` and scale the rest by ``1/(1-p)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd import Function, Node
from minigrad.ops._common import as_tensor
from minigrad.random import default_generator
from minigrad.tensor import Tensor


class Dropout(Function):
    """``z = x * mask`` with ``mask = [u >= p] / (1 - p)``, ``u`` uniform in [0, 1).
    ``dx = g * mask`` (the same mask). Scaling during training keeps the expected activation
    unchanged, so evaluation is the identity."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, p: float, generator: np.random.Generator) -> np.ndarray:
        dtype = x.dtype if x.dtype.kind == "f" else np.float64
        mask = generator.random(x.shape, dtype=np.float32 if dtype == np.float32 else np.float64)
        mask = (mask >= p).astype(dtype) * (1.0 / (1.0 - p)) if p < 1 else np.zeros(x.shape, dtype)
        ctx.save(mask)
        return x * mask

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (mask,) = ctx.saved
        return grad * mask


def dropout(
    x: Any, p: float = 0.5, training: bool = True, generator: np.random.Generator | None = None
) -> Tensor:
    """Inverted dropout. Draws from ``generator``, else minigrad's global one (``manual_seed``);
    the identity when ``training`` is False or ``p`` is 0.

    Example:
        >>> y = dropout(Tensor(np.ones(1000)), 0.5)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    return Dropout.apply(x, p=float(p), generator=generator or default_generator())
