"""Custom ops written the PyTorch way: ``ctx.save_for_backward``/``ctx.saved_tensors`` on
``Function`` (ndarrays), and ``TensorFunction`` whose bodies receive Tensors under no_grad."""

from __future__ import annotations

import numpy as np
import pytest
from support import GC_ATOL, GC_EPS, GC_RTOL

import minigrad as mg
from minigrad.autograd import Function, TensorFunction
from minigrad.gradcheck import gradcheck


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad


class Legendre3(TensorFunction):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors  # noqa: A001 (the tutorial's name)
        return grad_output * 1.5 * (5 * input**2 - 1)


class ScaledProduct(TensorFunction):
    """Two tensor inputs and a keyword setting; backward returns a tuple."""

    @staticmethod
    def forward(ctx, x, y, scale=1.0):
        ctx.save_for_backward(x, y)
        ctx.scale = scale
        return x * y * scale

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        grad_x = grad_output * y * ctx.scale if ctx.needs_input_grad[0] else None
        grad_y = grad_output * x * ctx.scale if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


def test_function_accepts_pytorchs_ctx_names(rng) -> None:
    x = mg.tensor(rng.standard_normal(5), dtype="float64", requires_grad=True)
    assert gradcheck(lambda t: Cube.apply(t).sum(), [x], eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)


def test_tensor_function_bodies_see_tensors_under_no_grad() -> None:
    seen = {}

    class Spy(TensorFunction):
        @staticmethod
        def forward(ctx, x):
            seen["forward"] = (type(x), mg.is_grad_enabled())
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            seen["backward"] = (type(grad_output), mg.is_grad_enabled())
            return grad_output * 2

    x = mg.tensor([1.0], requires_grad=True)
    y = Spy.apply(x)
    y.backward(np.ones(1, np.float32))
    assert seen == {"forward": (mg.Tensor, False), "backward": (mg.Tensor, False)}
    assert y.grad_fn.name == "Spy" and x.grad.tolist() == [2.0]


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_tensor_function_gradcheck(rng, shape) -> None:
    x = mg.tensor(rng.uniform(-1, 1, shape), dtype="float64", requires_grad=True)
    assert gradcheck(lambda t: Legendre3.apply(t), [x], eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)
    a = mg.tensor(rng.standard_normal((2, 3)), dtype="float64", requires_grad=True)
    b = mg.tensor(rng.standard_normal((3,)), dtype="float64", requires_grad=True)
    # broadcasting: the engine sums the gradient of b back to its shape, as for any op
    assert gradcheck(
        lambda p, q: ScaledProduct.apply(p, q, scale=0.5),
        [a, b],
        eps=GC_EPS,
        atol=GC_ATOL,
        rtol=GC_RTOL,
    )


def test_tensor_function_skips_inputs_that_need_no_grad(rng) -> None:
    a = mg.tensor(rng.standard_normal(3), dtype="float64", requires_grad=True)
    b = mg.tensor(rng.standard_normal(3), dtype="float64")
    ScaledProduct.apply(a, b).sum().backward()
    np.testing.assert_allclose(a.grad, b.numpy())
    assert b.grad is None


def test_tensor_function_without_grad_records_nothing() -> None:
    out = Legendre3.apply(mg.tensor([0.5]))
    assert out.grad_fn is None and out.tolist() == [pytest.approx(-0.4375)]


def test_saved_inputs_changed_in_place_are_caught() -> None:
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    x = w * 1
    y = Legendre3.apply(x)
    with mg.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match="Legendre3's backward needs its input 0"):
        y.sum().backward()


def test_writing_into_grad_output_fails_instead_of_corrupting() -> None:
    class Careless(TensorFunction):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad_output):
            grad_output[0] = 0  # PyTorch's tutorials clone() first
            return grad_output

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="read-only"):
        Careless.apply(x).sum().backward()


def test_forward_must_return_a_tensor() -> None:
    class Bad(TensorFunction):
        @staticmethod
        def forward(ctx, x):
            return [1.0]

    with pytest.raises(TypeError, match=r"Bad\.forward must return a Tensor"):
        Bad.apply(mg.tensor([1.0], requires_grad=True))
    with pytest.raises(TypeError, match="subclass TensorFunction"):
        TensorFunction.apply(mg.tensor([1.0]))
