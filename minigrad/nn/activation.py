"""Activation layers: elementwise nonlinearities."""

from __future__ import annotations

from minigrad.nn.layer import Layer
from minigrad.ops.activation import leaky_relu, relu, sigmoid, tanh
from minigrad.tensor import Tensor


class ReLU(Layer):
    """``max(x, 0)``. ``inplace`` is accepted for PyTorch code and changes nothing: the
    output is a new tensor (the same values and gradients as PyTorch's in-place ReLU).

    Example:
        >>> ReLU(inplace=True)(np.array([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

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
