"""Dropout, the regularizer that zeroes random activations while training."""

from __future__ import annotations

import numpy as np

from minigrad.nn.layer import Layer
from minigrad.ops.dropout import dropout
from minigrad.tensor import Tensor


class Dropout(Layer):
    """Inverted dropout in training mode, the identity in evaluation mode.

    Draws masks from ``generator`` if given, else from minigrad's global generator.

    Example:
        >>> Dropout(0.5).eval()(np.ones(3)).tolist()
        [1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p, self.generator = p, generator

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"
