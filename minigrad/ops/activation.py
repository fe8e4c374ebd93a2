"""Activations: relu, leaky_relu, sigmoid, tanh, softmax, log_softmax."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import kernels
from minigrad.autograd import Function, Node
from minigrad.ops._common import as_float, as_tensor, axis_int, torch_axis
from minigrad.tensor import Tensor


def expit(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``1 / (1 + exp(-x))`` in one pass that never overflows (SciPy's ``expit``), into
    ``out`` if given.

    SciPy is imported on first use: ``scipy.special`` takes a good part of a second to import,
    which ``import minigrad`` should not pay.
    """
    from scipy.special import expit as scipy_expit

    return scipy_expit(x, out=out)


class ReLU(Function):
    """``z = max(x, 0)``.   ``dx = g * [x > 0]`` (the subgradient at the kink ``x = 0`` is 0,
    as in PyTorch). A unit whose input is negative for every example gets no gradient at all:
    a "dead" ReLU."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray) -> np.ndarray:
        z = np.maximum(x, 0)
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (z,) = ctx.saved
        return grad * (z > 0)


class LeakyReLU(Function):
    """``z = x if x > 0 else a * x``.   ``dx = g`` where ``x > 0``, ``a * g`` elsewhere."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, slope: float) -> np.ndarray:
        x = as_float(x)
        ctx.slope = slope
        ctx.save(x)
        return np.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved
        return np.where(x > 0, grad, grad * ctx.slope)


class Sigmoid(Function):
    """``z = 1 / (1 + exp(-x))``.   ``dx = g * z * (1 - z)``.

    ``expit`` never overflows. The factor ``z (1 - z)`` is at most 1/4 and
    vanishes as ``|x|`` grows: a saturated sigmoid passes almost no gradient back.
    """

    @staticmethod
    def forward(ctx: Node, x: np.ndarray) -> np.ndarray:
        z = expit(as_float(x))
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (z,) = ctx.saved
        return grad * (z * (1 - z))


class Tanh(Function):
    """``z = tanh(x)``.   ``dx = g * (1 - z**2)``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray) -> np.ndarray:
        z = np.tanh(as_float(x))
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (z,) = ctx.saved
        return grad * (1 - z * z)


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    """``x - max(x)`` along ``axis``: exp of it cannot overflow and the largest term is 1."""
    x = as_float(x)
    return x - x.max(axis=axis, keepdims=True)


class Softmax(Function):
    """``z_i = exp(x_i) / sum_j exp(x_j)`` along ``axis``.
    ``dx = z * (g - sum_j g_j z_j)`` (the Jacobian ``diag(z) - z z^T`` applied to ``g``)."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, axis: int) -> np.ndarray:
        e = np.exp(_shifted(x, axis))
        z = e / e.sum(axis=axis, keepdims=True)
        ctx.axis = axis
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (z,) = ctx.saved
        return z * (grad - (grad * z).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """``z_i = x_i - log sum_j exp(x_j)`` along ``axis``.
    ``dx = g - softmax(x) * sum_j g_j``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, axis: int) -> np.ndarray:
        s = _shifted(x, axis)
        z = s - np.log(np.exp(s).sum(axis=axis, keepdims=True))
        ctx.axis = axis
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (z,) = ctx.saved
        return grad - np.exp(z) * grad.sum(axis=ctx.axis, keepdims=True)


def _axis(x: Tensor, axis: int, op: str) -> int:
    axis = axis_int(axis, op)
    if not -max(x.ndim, 1) <= axis < max(x.ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a {x.ndim}-d tensor")
    return axis % max(x.ndim, 1) if x.ndim else None  # type: ignore[return-value]


def relu(x: Any, inplace: bool = False) -> Tensor:
    """``max(x, 0)`` elementwise. ``inplace`` is accepted for PyTorch code and ignored: the
    result is always a new tensor (the same values and gradients).

    Example:
        >>> relu(Tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    return kernels.pick(ReLU).apply(as_tensor(x))


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    Example:
        >>> leaky_relu(Tensor([-1.0, 2.0]), 0.25).tolist()
        [-0.25, 2.0]
    """
    return LeakyReLU.apply(as_tensor(x), slope=negative_slope)


def sigmoid(x: Any) -> Tensor:
    """The logistic function, stable for any input.

    Example:
        >>> sigmoid(Tensor([0.0])).tolist()
        [0.5]
    """
    return Sigmoid.apply(as_tensor(x))


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent.

    Example:
        >>> tanh(Tensor([0.0])).tolist()
        [0.0]
    """
    return Tanh.apply(as_tensor(x))


def softmax(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Softmax along ``axis`` (or PyTorch's ``dim``; the last by default).

    Example:
        >>> softmax(Tensor([0.0, 0.0])).tolist()
        [0.5, 0.5]
    """
    x = as_tensor(x)
    axis = torch_axis("softmax", axis, dim)
    return Softmax.apply(x, axis=_axis(x, -1 if axis is None else axis, "softmax"))


def log_softmax(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Log-softmax along ``axis`` (or PyTorch's ``dim``; the last by default), stable for
    large inputs.

    Example:
        >>> [round(v, 4) for v in log_softmax(Tensor([0.0, 0.0])).tolist()]
        [-0.6931, -0.6931]
    """
    x = as_tensor(x)
    axis = torch_axis("log_softmax", axis, dim)
    return LogSoftmax.apply(x, axis=_axis(x, -1 if axis is None else axis, "log_softmax"))
