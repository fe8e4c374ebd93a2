"""The fully connected layer."""

from __future__ import annotations

import numpy as np

from minigrad.dtypes import is_int
from minigrad.nn import init
from minigrad.nn.layer import Layer, Parameter
from minigrad.ops.linalg import linear
from minigrad.tensor import Tensor


class Linear(Layer):
    """``y = x @ weight.T + bias`` with ``weight`` of shape (out_features, in_features), as in
    PyTorch; initialized uniformly in ``+-1/sqrt(in_features)``. ``in_features=0`` is allowed
    (as in PyTorch): the output is then the bias, which starts at zero.

    Example:
        >>> layer = Linear(784, 10)
        >>> layer.weight.shape, layer(np.zeros((32, 784))).shape
        ((10, 784), (32, 10))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not is_int(value) or value < 0:
                raise ValueError(f"Linear: {name} must be an int >= 0, got {value!r}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.zeros((out_features, in_features)))
        self.bias = Parameter(np.zeros(out_features)) if bias else None
        init.default_init_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
