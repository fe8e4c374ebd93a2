"""Pooling layers over (N, C, H, W) images."""

from __future__ import annotations

from minigrad.nn.layer import Layer
from minigrad.ops.geometry import Pair
from minigrad.ops.pool import avg_pool2d, max_pool2d
from minigrad.tensor import Tensor


class MaxPool2d(Layer):
    """Max pooling over (N, C, H, W); ``stride`` defaults to ``kernel_size``.

    Example:
        >>> MaxPool2d(2)(np.zeros((1, 3, 28, 28))).shape
        (1, 3, 14, 14)
    """

    def __init__(self, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Layer):
    """Average pooling over (N, C, H, W), padding counted as zeros.

    Example:
        >>> AvgPool2d(2)(np.ones((1, 1, 4, 4))).tolist()
        [[[[1.0, 1.0], [1.0, 1.0]]]]
    """

    def __init__(self, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
