"""The 2-D convolution layer."""

from __future__ import annotations

import numpy as np

from minigrad.dtypes import is_int
from minigrad.nn import init
from minigrad.nn.layer import Layer, Parameter
from minigrad.ops.conv import conv2d
from minigrad.ops.geometry import Pair, pair
from minigrad.tensor import Tensor


class Conv2d(Layer):
    """2-D convolution over (N, C, H, W); ``weight`` is (out_channels, in_channels/groups,
    KH, KW), as in PyTorch, and initialized uniformly in ``+-1/sqrt(fan_in)``.

    Example:
        >>> conv = Conv2d(1, 8, 3, padding=1)
        >>> conv(np.zeros((2, 1, 28, 28))).shape
        (2, 8, 28, 28)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Pair,
        stride: Pair = 1,
        padding: Pair = 0,
        dilation: Pair = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        for name, value, low in (
            ("in_channels", in_channels, 0),
            ("out_channels", out_channels, 0),
            ("groups", groups, 1),
        ):
            if not is_int(value) or value < low:
                raise ValueError(f"Conv2d: {name} must be an int >= {low}, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: groups={groups} must divide in_channels={in_channels} and "
                f"out_channels={out_channels}"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = pair(stride, "stride", "Conv2d")
        self.padding = pair(padding, "padding", "Conv2d", minimum=0)
        self.dilation = pair(dilation, "dilation", "Conv2d")
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(np.zeros(shape))
        self.bias = Parameter(np.zeros(out_channels)) if bias else None
        init.default_init_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")
