"""Layers without learned parameters: activations, pooling, dropout, flatten."""

from __future__ import annotations

import numpy as np

from minigrad.nn.layer import Layer
from minigrad.ops.activation import leaky_relu, relu, sigmoid, tanh
from minigrad.ops.conv import Pair
from minigrad.ops.dropout import dropout
from minigrad.ops.pool import avg_pool2d, max_pool2d
from minigrad.ops.shape import flatten
from minigrad.tensor import Tensor


class ReLU(Layer):
    """``max(x, 0)``.

    Example:
        >>> ReLU()(np.array([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """

    def forward(self, x: Tensor) -> Tensor:
        return relu(x)


class LeakyReLU(Layer):
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    Example:
        >>> LeakyReLU(0.25)(np.array([-1.0, 2.0])).tolist()
        [-0.25, 2.0]
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Layer):
    """The logistic function.

    Example:
        >>> Sigmoid()(np.array([0.0])).tolist()
        [0.5]
    """

    def forward(self, x: Tensor) -> Tensor:
        return sigmoid(x)


class Tanh(Layer):
    """Hyperbolic tangent.

    Example:
        >>> Tanh()(np.array([0.0])).tolist()
        [0.0]
    """

    def forward(self, x: Tensor) -> Tensor:
        return tanh(x)


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


class Flatten(Layer):
    """Merge axes ``start_axis..end_axis`` (by default all but the batch axis).

    Example:
        >>> Flatten()(np.zeros((2, 3, 4, 4))).shape
        (2, 48)
    """

    def __init__(self, start_axis: int = 1, end_axis: int = -1) -> None:
        super().__init__()
        self.start_axis, self.end_axis = start_axis, end_axis

    def forward(self, x: Tensor) -> Tensor:
        return flatten(x, self.start_axis, self.end_axis)

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"
