"""Weight initialization, in place on a tensor's data, drawing from minigrad's generator.

``fan_in`` of a weight is the number of inputs each output unit sums over (``in_features``
for ``Linear``, ``C/groups * KH * KW`` for ``Conv2d``); ``fan_out`` the number of outputs each
input feeds.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.random import default_generator
from minigrad.tensor import Tensor

_GAINS = {"linear": 1.0, "conv2d": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0)}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale for weights feeding ``nonlinearity`` (PyTorch's values).

    Example:
        >>> round(calculate_gain("relu"), 4)
        1.4142
    """
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in _GAINS:
        raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")
    return _GAINS[nonlinearity]


def fans(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``.

    Example:
        >>> fans(Tensor(np.zeros((8, 3, 5, 5))))
        (75, 200)
    """
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fans: need a weight with at least 2 axes, got shape {shape}")
    receptive = int(np.prod(shape[2:], dtype=np.int64))
    return shape[1] * receptive, shape[0] * receptive


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    tensor.data[...] = values
    return tensor


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Fill with draws from U(a, b).

    Example:
        >>> t = uniform_(Tensor(np.zeros(100)), -1, 1); bool((abs(t.numpy()) <= 1).all())
        True
    """
    rng = generator or default_generator()
    return _fill(tensor, rng.uniform(a, b, tensor.shape))


def normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Fill with draws from N(mean, std**2).

    Example:
        >>> normal_(Tensor(np.zeros(3)), std=0.1).shape
        (3,)
    """
    rng = generator or default_generator()
    return _fill(tensor, rng.normal(mean, std, tensor.shape))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros.

    Example:
        >>> zeros_(Tensor(np.ones(2))).tolist()
        [0.0, 0.0]
    """
    return _fill(tensor, 0)


def constant_(tensor: Tensor, value: float) -> Tensor:
    """Fill with ``value``.

    Example:
        >>> constant_(Tensor(np.zeros(2)), 0.5).tolist()
        [0.5, 0.5]
    """
    return _fill(tensor, value)


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fans(tensor)[0 if mode == "fan_in" else 1]


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He initialization, uniform: U(-bound, bound) with ``bound = gain * sqrt(3 / fan)``.

    Keeps the variance of activations steady through ReLU layers.

    Example:
        >>> t = kaiming_uniform_(Tensor(np.zeros((64, 100))), nonlinearity="relu")
        >>> bool(abs(t.numpy()).max() <= np.sqrt(6 / 100))
        True
    """
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He initialization, normal: N(0, std**2) with ``std = gain / sqrt(fan)``.

    Example:
        >>> kaiming_normal_(Tensor(np.zeros((4, 3))), nonlinearity="relu").shape
        (4, 3)
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Glorot initialization, uniform: ``bound = gain * sqrt(6 / (fan_in + fan_out))``.

    Example:
        >>> t = xavier_uniform_(Tensor(np.zeros((10, 10))))
        >>> bool(abs(t.numpy()).max() <= np.sqrt(6 / 20))
        True
    """
    fan_in, fan_out = fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(
    tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Glorot initialization, normal: ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Example:
        >>> xavier_normal_(Tensor(np.zeros((4, 3)))).shape
        (4, 3)
    """
    fan_in, fan_out = fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def default_init_(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for ``Linear`` and ``Conv2d``: weight and bias uniform in
    ``+-1/sqrt(fan_in)`` (``kaiming_uniform_`` with ``a = sqrt(5)``). A layer with no inputs
    (``Linear(0, n)``) has an empty weight and a zero bias, as in PyTorch."""
    fan_in = fans(weight)[0]
    if weight.size:
        kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
        uniform_(bias, -bound, bound)
