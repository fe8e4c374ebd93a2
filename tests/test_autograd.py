"""The engine: accumulation, graph freeing, grad mode, depth, memory."""

from __future__ import annotations

import gc
import sys
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.autograd import Function, sum_to


def test_reused_node_accumulates() -> None:
    a = mg.tensor([1.0, -2.0], requires_grad=True)
    b = a + a
    c = b * b
    c.sum().backward()
    # c = 4 a^2, dc/da = 8 a
    np.testing.assert_array_equal(a.grad, [8.0, -16.0])


def test_each_rule_runs_once_with_the_summed_gradient(monkeypatch) -> None:
    from minigrad.ops.elementwise import Exp

    calls = []

    real = Exp.backward

    def spy(ctx, grad):
        calls.append(grad.copy())
        return real(ctx, grad)

    monkeypatch.setattr(Exp, "backward", staticmethod(spy))
    x = mg.tensor([0.5], requires_grad=True)
    e = x.exp()
    (e * 2 + e * 3).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], [5.0])


def test_leaves_accumulate_across_backward_calls() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3 + 2, 3 + 4])


def test_second_backward_without_retain_graph_raises() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_no_grad_records_nothing() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        y = x * 2 + 1
    assert not y.requires_grad and y.grad_fn is None
    assert mg.is_grad_enabled()


def test_no_grad_and_enable_grad_work_as_decorators() -> None:
    x = mg.tensor([1.0], requires_grad=True)

    @mg.no_grad()
    def frozen():
        return x * 2, mg.is_grad_enabled()

    @mg.enable_grad()
    def live():
        return x * 2

    y, enabled = frozen()
    assert not y.requires_grad and not enabled
    with mg.no_grad():
        assert live().requires_grad
    assert mg.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception() -> None:
    with pytest.raises(ZeroDivisionError), mg.no_grad():
        1 / 0
    assert mg.is_grad_enabled()


def test_deep_chain_at_default_recursion_limit() -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        x = mg.tensor([1.0], dtype="float64", requires_grad=True)
        h = x * 1.0001
        first = weakref.ref(h.grad_fn)
        for _ in range(10_000 - 1):
            h = h * 1.0001
        probes = [first, weakref.ref(h.grad_fn)]
        h.sum().backward()
        np.testing.assert_allclose(x.grad, [1.0001**10_000])
        del h
        assert all(p() is None for p in probes)
    finally:
        sys.setrecursionlimit(limit)


def test_grad_returns_gradients_without_touching_dot_grad() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = mg.grad(y, [x, w])
    np.testing.assert_array_equal(gx, [3.0, 4.0])
    np.testing.assert_array_equal(gw, [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_grad_of_an_intermediate_tensor() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    (gh,) = mg.grad(y, h)
    np.testing.assert_array_equal(gh, [4.0, 8.0])


def test_grad_with_grad_outputs_and_unused_inputs() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    unused = mg.tensor([1.0], requires_grad=True)
    y = x * 3
    with pytest.raises(RuntimeError, match="not reachable"):
        mg.grad(y, [x, unused], grad_outputs=np.array([1.0, 10.0]), retain_graph=True)
    gx, gu = mg.grad(y, [x, unused], grad_outputs=np.array([1.0, 10.0]), allow_unused=True)
    np.testing.assert_array_equal(gx, [3.0, 30.0])
    assert gu is None


def test_backward_of_non_scalar_needs_grad() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="one-element"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_on_tensor_without_grad_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.tensor([1.0]).sum().backward()


def test_rule_skips_gradients_nobody_asked_for(monkeypatch) -> None:
    from minigrad.ops.linalg import MatMul

    seen = []
    real = MatMul.backward

    def spy(ctx, grad):
        seen.append(ctx.needs_input_grad)
        return real(ctx, grad)

    monkeypatch.setattr(MatMul, "backward", staticmethod(spy))
    x = mg.randn(4, 3)  # data: no grad wanted
    w = mg.randn(3, 2, requires_grad=True)
    (x @ w).sum().backward()
    assert seen == [(False, True)]


def test_shared_gradient_arrays_are_not_aliased() -> None:
    # add passes the same upstream array to both inputs; each leaf must own its .grad
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad += 100
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_user_grad_is_not_aliased_by_a_leaf() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    upstream = np.array([1.0, 1.0], dtype=np.float32)
    x.reshape(2, 1).backward(upstream.reshape(2, 1))
    x.grad *= 5
    np.testing.assert_array_equal(upstream, [1.0, 1.0])


def test_gradient_dtype_follows_the_input_when_dtypes_mix() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)  # float32
    y = mg.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    z = x * y
    assert z.dtype == np.float64
    z.sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64


def _training_step(w1: mg.Tensor, w2: mg.Tensor, x: mg.Tensor, y: np.ndarray):
    h = F.relu(x @ w1)
    loss = F.cross_entropy(h @ w2, y)
    loss.backward()
    with mg.no_grad():
        for w in (w1, w2):
            w.data -= 0.01 * w.grad
            w.grad = None
    return weakref.ref(loss.grad_fn), weakref.ref(h.grad_fn)


def _net(rng):
    w1 = mg.tensor(rng.standard_normal((8, 16)) * 0.3, requires_grad=True)
    w2 = mg.tensor(rng.standard_normal((16, 4)) * 0.3, requires_grad=True)
    x = mg.tensor(rng.standard_normal((32, 8)))
    y = rng.integers(0, 4, 32)
    return w1, w2, x, y


def test_no_graph_node_survives_a_training_step(rng) -> None:
    w1, w2, x, y = _net(rng)
    gc.disable()
    try:
        probes = _training_step(w1, w2, x, y)
        # the cyclic collector is off: reference counting alone must free the graph
        assert all(p() is None for p in probes)
    finally:
        gc.enable()


def test_traced_memory_stays_flat_over_many_steps(rng) -> None:
    w1, w2, x, y = _net(rng)
    for _ in range(20):
        _training_step(w1, w2, x, y)
    tracemalloc.start()
    try:
        for _ in range(100):
            _training_step(w1, w2, x, y)
        after_100, _ = tracemalloc.get_traced_memory()
        for _ in range(100):
            _training_step(w1, w2, x, y)
        after_200, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after_200 - after_100 < 64 * 1024, (after_100, after_200)


def test_deep_graph_that_is_never_backpropagated_is_freed() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    h = x * 1.0
    first = weakref.ref(h.grad_fn)
    for _ in range(50_000):
        h = h + 1.0
    del h  # tearing down a long chain must not overflow the C stack either
    assert first() is None


@pytest.mark.parametrize(
    ("grad_shape", "shape", "expected"),
    [((4, 2, 3), (2, 1), [[12.0], [12.0]]), ((2, 3), (1, 3), [[2.0, 2.0, 2.0]]), ((3,), (), 3.0)],
)
def test_sum_to_undoes_broadcasting(grad_shape, shape, expected) -> None:
    assert sum_to(np.ones(grad_shape), shape).tolist() == expected


class _WrongShape(Function):
    """A broken rule: returns a gradient transposed, or smaller than its input."""

    @staticmethod
    def forward(ctx, x, bad_shape):
        ctx.bad_shape = bad_shape
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return np.ones(ctx.bad_shape)


@pytest.mark.parametrize("bad_shape", [(3, 2), (3,), (2, 3, 1)])
def test_a_rule_returning_a_gradient_of_the_wrong_shape_is_named(bad_shape) -> None:
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    y = _WrongShape.apply(x, bad_shape=bad_shape)
    with pytest.raises(RuntimeError, match=r"_WrongShape.backward returned a gradient of shape"):
        y.sum().backward()
