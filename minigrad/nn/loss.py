"""Loss layers: call them as ``loss_fn(prediction, target)``."""

from __future__ import annotations

from typing import Any

from minigrad.nn.layer import Layer
from minigrad.ops.loss import REDUCTIONS, cross_entropy, mse_loss
from minigrad.tensor import Tensor


class _Loss(Layer):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, got {reduction!r}"
            )
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) against integer class targets (N,).

    ``backward()`` returns ``(dL/dlogits, None)``: targets are not differentiable.

    Example:
        >>> loss_fn = CrossEntropyLoss()
        >>> round(loss_fn(np.zeros((2, 4)), np.array([0, 3])).item(), 4)
        1.3863
    """

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return cross_entropy(logits, target, self.reduction)


class MSELoss(_Loss):
    """Mean squared error between a prediction and a target of the same shape.

    Example:
        >>> MSELoss()(np.array([1.0, 3.0]), np.array([1.0, 1.0])).item()
        2.0
    """

    def forward(self, prediction: Tensor, target: Any) -> Tensor:
        return mse_loss(prediction, target, self.reduction)
