"""Elementwise arithmetic with NumPy broadcasting.

Every binary rule returns gradients of the broadcast output shape; the engine sums them back
to each input's shape (``autograd.sum_to``), so no rule here unbroadcasts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd import Function, Node
from minigrad.ops._common import as_float, as_tensor, integral, operands, shape_error, shape_of
from minigrad.tensor import Tensor


class Add(Function):
    """``z = x + y``.   ``dx = g``,  ``dy = g``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x + y

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        need_x, need_y = ctx.needs_input_grad
        return grad if need_x else None, grad if need_y else None


class Sub(Function):
    """``z = x - y``.   ``dx = g``,  ``dy = -g``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x - y

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        need_x, need_y = ctx.needs_input_grad
        return grad if need_x else None, -grad if need_y else None


class Mul(Function):
    """``z = x * y``.   ``dx = g * y``,  ``dy = g * x``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ctx.save(x, y)
        return x * y

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        x, y = ctx.saved
        need_x, need_y = ctx.needs_input_grad
        return grad * y if need_x else None, grad * x if need_y else None


class Div(Function):
    """``z = x / y``.   ``dx = g / y``,  ``dy = -g * x / y**2``, computed as ``-dx * (x / y)``.

    Integers divided by integers give the default float dtype (PyTorch's rule), not float64.
    """

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if integral(x) and integral(y):
            x, y = as_float(np.asarray(x)), y if type(y) is int else as_float(np.asarray(y))
        ctx.save(x, y)
        return x / y

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        x, y = ctx.saved
        need_x, need_y = ctx.needs_input_grad
        grad_x = grad / y
        return grad_x if need_x else None, -grad_x * (x / y) if need_y else None


class Neg(Function):
    """``z = -x``.   ``dx = -g``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray) -> np.ndarray:
        return -x

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        return -grad


class Pow(Function):
    """``z = x ** y``.   ``dx = g * y * x**(y-1)``,  ``dy = g * z * log(x)`` (needs ``x > 0``).

    At the two limits PyTorch defines, the gradient is 0 rather than ``0 * inf``: ``dx = 0``
    where ``y = 0`` (``x**0`` is the constant 1, even at ``x = 0``), and ``dy = 0`` where
    ``x = 0`` and ``y >= 0`` (``0**y`` is constant there).
    """

    @staticmethod
    def forward(ctx: Node, x: Any, y: Any) -> np.ndarray:
        z = x**y
        ctx.save(x, y, z)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        x, y, z = ctx.saved
        need_x, need_y = ctx.needs_input_grad
        grad_x = grad_y = None
        if need_x:
            if not isinstance(y, (int, float)):
                # y * x**(y-1), with x**0 in place of x**-1 where y = 0 (then 0 * 1 = 0)
                grad_x = grad * (y * x ** (np.where(y == 0, 1, y) - 1))
            elif y == 0:
                grad_x = np.zeros_like(grad)
            else:  # 2 * x for squares: z / x would divide by zero at x = 0
                grad_x = grad * (2 * x if y == 2 else y * x ** (y - 1))
        if need_y:
            # log(1) = 0 stands in for log(0) where 0**y is constant
            log_x = np.log(np.where((x == 0) & (y >= 0), 1, x)).astype(z.dtype, copy=False)
            grad_y = grad * z * log_x
        return grad_x, grad_y


class Exp(Function):
    """``z = exp(x)``.   ``dx = g * z``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray) -> np.ndarray:
        z = np.exp(as_float(x))
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (z,) = ctx.saved
        return grad * z


class Log(Function):
    """``z = log(x)``.   ``dx = g / x``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        ctx.save(x)
        return np.log(x)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved
        return grad / x


class Sqrt(Function):
    """``z = sqrt(x)``.   ``dx = g / (2 z)``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray) -> np.ndarray:
        z = np.sqrt(as_float(x))
        ctx.save(z)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (z,) = ctx.saved
        return grad / (2 * z)


class Sin(Function):
    """``z = sin(x)``.   ``dx = g * cos(x)``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        ctx.save(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved
        return grad * np.cos(x)


class Cos(Function):
    """``z = cos(x)``.   ``dx = -g * sin(x)``."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        ctx.save(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved
        return -grad * np.sin(x)


class Abs(Function):
    """``z = |x|``.   ``dx = g * sign(x)`` (subgradient 0 at the kink ``x = 0``)."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray) -> np.ndarray:
        ctx.save(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved
        return grad * np.sign(x)


def _tie_weight(x: np.ndarray, y: np.ndarray, wins: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """1 where x wins, 0 where y wins, 0.5 on a tie (PyTorch's split of a tie's gradient)."""
    return np.where(x == y, 0.5, wins).astype(dtype, copy=False)


class Maximum(Function):
    """``z = max(x, y)`` elementwise.   ``dx = g * w``,  ``dy = g * (1 - w)`` with ``w`` 1 where
    ``x > y``, 0 where ``x < y`` and 0.5 on a tie."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z = np.maximum(x, y)
        ctx.save(x, y)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        x, y = ctx.saved
        w = _tie_weight(x, y, np.greater(x, y), grad.dtype)
        need_x, need_y = ctx.needs_input_grad
        return grad * w if need_x else None, grad * (1 - w) if need_y else None


class Minimum(Function):
    """``z = min(x, y)`` elementwise.   ``dx = g * w``,  ``dy = g * (1 - w)`` with ``w`` 1 where
    ``x < y``, 0 where ``x > y`` and 0.5 on a tie."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z = np.minimum(x, y)
        ctx.save(x, y)
        return z

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        x, y = ctx.saved
        w = _tie_weight(x, y, np.less(x, y), grad.dtype)
        need_x, need_y = ctx.needs_input_grad
        return grad * w if need_x else None, grad * (1 - w) if need_y else None


class Where(Function):
    """``z = cond ? x : y``.   ``dx = g where cond else 0``,  ``dy = g where not cond else 0``."""

    @staticmethod
    def forward(ctx: Node, cond: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ctx.save(cond)
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        (cond,) = ctx.saved
        _, need_x, need_y = ctx.needs_input_grad
        zero = grad.dtype.type(0)
        return (
            None,
            np.where(cond, grad, zero) if need_x else None,
            np.where(cond, zero, grad) if need_y else None,
        )


class Clip(Function):
    """``z = min(max(x, lo), hi)``.   ``dx = g`` where ``lo <= x <= hi``, else 0."""

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, lo: Any, hi: Any) -> np.ndarray:
        ctx.save(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        (x,) = ctx.saved
        inside = np.ones(x.shape, dtype=bool)
        if ctx.lo is not None:
            inside &= x >= ctx.lo
        if ctx.hi is not None:
            inside &= x <= ctx.hi
        return grad * inside


# ---------------------------------------------------------------------------------------------
# wrappers
# ---------------------------------------------------------------------------------------------
def _binary(fn: type[Function], op: str, x: Any, y: Any) -> Tensor:
    x, y = operands(x, y)
    try:
        return fn.apply(x, y)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise shape_error(op, shape_of(x), shape_of(y)) from None


def add(x: Any, y: Any) -> Tensor:
    """``x + y`` with broadcasting.

    Example:
        >>> add(Tensor([1.0, 2.0]), 1).tolist()
        [2.0, 3.0]
    """
    return _binary(Add, "add", x, y)


def sub(x: Any, y: Any) -> Tensor:
    """``x - y`` with broadcasting.

    Example:
        >>> sub(2, Tensor([1.0, 2.0])).tolist()
        [1.0, 0.0]
    """
    return _binary(Sub, "sub", x, y)


def mul(x: Any, y: Any) -> Tensor:
    """``x * y`` with broadcasting.

    Example:
        >>> mul(Tensor([1.0, 2.0]), 3).tolist()
        [3.0, 6.0]
    """
    return _binary(Mul, "mul", x, y)


def div(x: Any, y: Any) -> Tensor:
    """``x / y`` with broadcasting.

    Example:
        >>> div(1, Tensor([2.0, 4.0])).tolist()
        [0.5, 0.25]
    """
    return _binary(Div, "div", x, y)


def power(x: Any, y: Any) -> Tensor:
    """``x ** y`` with broadcasting; either side may be a tensor.

    Example:
        >>> power(Tensor([2.0, 3.0]), 2).tolist()
        [4.0, 9.0]
    """
    return _binary(Pow, "pow", x, y)


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum; a tie sends half the gradient to each side.

    Example:
        >>> maximum(Tensor([1.0, 5.0]), 2).tolist()
        [2.0, 5.0]
    """
    return _binary(Maximum, "maximum", x, y)


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum; a tie sends half the gradient to each side.

    Example:
        >>> minimum(Tensor([1.0, 5.0]), 2).tolist()
        [1.0, 2.0]
    """
    return _binary(Minimum, "minimum", x, y)


def neg(x: Any) -> Tensor:
    """``-x``.

    Example:
        >>> neg(Tensor([1.0])).tolist()
        [-1.0]
    """
    return Neg.apply(as_tensor(x))


def exp(x: Any) -> Tensor:
    """Elementwise ``e**x``.

    Example:
        >>> exp(Tensor([0.0])).tolist()
        [1.0]
    """
    return Exp.apply(as_tensor(x))


def log(x: Any) -> Tensor:
    """Elementwise natural logarithm.

    Example:
        >>> log(Tensor([1.0])).tolist()
        [0.0]
    """
    return Log.apply(as_tensor(x))


def sqrt(x: Any) -> Tensor:
    """Elementwise square root.

    Example:
        >>> sqrt(Tensor([4.0])).tolist()
        [2.0]
    """
    return Sqrt.apply(as_tensor(x))


def sin(x: Any) -> Tensor:
    """Elementwise sine (integers compute in the default float dtype).

    Example:
        >>> sin(Tensor([0.0])).tolist()
        [0.0]
    """
    return Sin.apply(as_tensor(x))


def cos(x: Any) -> Tensor:
    """Elementwise cosine (integers compute in the default float dtype).

    Example:
        >>> cos(Tensor([0.0])).tolist()
        [1.0]
    """
    return Cos.apply(as_tensor(x))


def absolute(x: Any) -> Tensor:
    """Elementwise absolute value.

    Example:
        >>> absolute(Tensor([-2.0])).tolist()
        [2.0]
    """
    return Abs.apply(as_tensor(x))


def where(cond: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``cond`` is true, else ``y`` (no gradient flows to ``cond``).

    Example:
        >>> where(Tensor([True, False]), Tensor([1.0, 2.0]), 0).tolist()
        [1.0, 0.0]
    """
    cond = np.asarray(cond.data if isinstance(cond, Tensor) else cond, dtype=bool)
    x, y = operands(x, y)
    try:
        return Where.apply(cond, x, y)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        raise shape_error("where", cond.shape, shape_of(x), shape_of(y)) from None


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:
    """Limit ``x`` to ``[min, max]`` (either may be None).

    Example:
        >>> clip(Tensor([-1.0, 0.5, 2.0]), 0, 1).tolist()
        [0.0, 0.5, 1.0]
    """
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    x = as_tensor(x)
    if x.dtype.kind != "f" and any(b is not None and not integral(b) for b in (min, max)):
        # an integer tensor limited by float bounds computes in the default float dtype
        x = Tensor._wrap(as_float(x.data), None)
    bounds = [
        b if b is None or isinstance(b, (int, float)) else np.asarray(b, dtype=x.dtype)
        for b in (min, max)
    ]
    return Clip.apply(x, lo=bounds[0], hi=bounds[1])
