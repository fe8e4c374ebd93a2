"""Every op follows the int/float promotion rule (DESIGN.md "Invariants"): an integer tensor
meeting a float tensor or float constant takes that float dtype (float32 stays float32), and
integer-only float ops give the default float dtype (PyTorch's rule)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F


def _ints(*shape: int) -> mg.Tensor:
    return mg.tensor(np.arange(1, int(np.prod(shape)) + 1).reshape(shape))


def _floats(*shape: int, dtype: str = "float32") -> mg.Tensor:
    return mg.tensor(np.linspace(0.5, 2.0, int(np.prod(shape))).reshape(shape), dtype=dtype)


# (name, call(int tensor factory, float tensor factory)): each mixes integers with floats
MIXED = {
    "add": lambda i, f: i(2, 2) + f(2, 2),
    "radd": lambda i, f: f(2, 2) + i(2, 2),
    "sub": lambda i, f: i(2, 2) - f(2, 2),
    "mul": lambda i, f: i(2, 2) * f(2, 2),
    "div": lambda i, f: i(2, 2) / f(2, 2),
    "pow": lambda i, f: i(2, 2) ** f(2, 2),
    "rpow": lambda i, f: f(2, 2) ** i(2, 2),
    "matmul": lambda i, f: i(2, 3) @ f(3, 2),
    "rmatmul": lambda i, f: f(2, 3) @ i(3, 2),
    "mm": lambda i, f: i(2, 3).mm(f(3, 2)),
    "maximum": lambda i, f: i(2, 2).maximum(f(2, 2)),
    "minimum": lambda i, f: f(2, 2).minimum(i(2, 2)),
    "max_with_tensor": lambda i, f: i(2, 2).max(f(2, 2)),
    "where": lambda i, f: mg.where(i(2, 2) > 2, i(2, 2), f(2, 2)),
    "concat": lambda i, f: mg.concat([i(2, 2), f(2, 2)]),
    "stack": lambda i, f: mg.stack([f(2, 2), i(2, 2)], dim=1),
    "linear": lambda i, f: F.linear(i(2, 3), f(4, 3), f(4)),
    "linear_int_bias": lambda i, f: F.linear(f(2, 3), f(4, 3), i(4)),
    "conv2d": lambda i, f: F.conv2d(i(1, 1, 4, 4), f(2, 1, 3, 3)),
    "mse_loss": lambda i, f: F.mse_loss(i(2, 2), f(2, 2)),
    "bce_with_logits": lambda i, f: F.binary_cross_entropy_with_logits(f(2, 2), i(2, 2) > 2),
}


@pytest.mark.parametrize("name", MIXED)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_integer_tensor_takes_the_float_partners_dtype(name, dtype) -> None:
    out = MIXED[name](_ints, lambda *s: _floats(*s, dtype=dtype))
    assert out.dtype == np.dtype(dtype)


INT_ONLY = {
    "int_div_int": lambda x: x / x,
    "int_times_float_constant": lambda x: x * 0.5,
    "int_pow_float_constant": lambda x: x**0.5,
    "clip_with_float_bounds": lambda x: x.clip(0.5, 2.5),
    "clamp_with_a_float_bound": lambda x: x.clamp(0, 3.0),
    "mean": lambda x: x.mean(),
    "var": lambda x: x.var(dim=0),
    "logsumexp": lambda x: x.logsumexp(),
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "sin": lambda x: x.sin(),
    "cos": lambda x: mg.cos(x),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "softmax": lambda x: x.softmax(dim=1),
    "log_softmax": lambda x: F.log_softmax(x, dim=1),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "cross_entropy": lambda x: F.cross_entropy(x, mg.tensor([0, 1])),
    "float": lambda x: x.float(),
}


@pytest.mark.parametrize("name", INT_ONLY)
def test_integer_only_float_ops_give_the_default_float(name) -> None:
    assert INT_ONLY[name](_ints(2, 2)).dtype == np.float32
    mg.set_default_dtype("float64")
    try:
        expected = np.float32 if name == "float" else np.float64
        assert INT_ONLY[name](_ints(2, 2)).dtype == expected
    finally:
        mg.set_default_dtype("float32")


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.clip(0, 3),
        lambda x: x * 2,
        lambda x: x.max(dim=0).values,
        lambda x: x.sum(dim=1),
        lambda x: F.pad(x, 1),
    ],
)
def test_integer_ops_with_integers_stay_integer(call) -> None:
    assert call(_ints(2, 2)).dtype == np.int64


def test_clip_of_integers_by_float_bounds_keeps_the_values() -> None:
    assert _ints(4).clip(1.5, 3.5).tolist() == [1.5, 2.0, 3.0, 3.5]
