"""In-place changes: PyTorch's rules, and a version counter that stops a backward from using
values changed since the forward (instead of silently computing a wrong gradient)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

STALE = r"changed in place since"


def test_an_optimizer_step_between_forward_and_backward_is_caught(rng) -> None:
    """The issue's case: the backward would have used the stepped weights."""
    lin = nn.Linear(3, 2)
    opt = optim.SGD(lin.parameters(), lr=0.1)
    lin.weight.grad = np.ones((2, 3), np.float32)
    y = lin(rng.standard_normal((4, 3))).sum()
    opt.step()
    with pytest.raises(
        RuntimeError, match=r"Linear's backward needs its input 1 \(shape \(2, 3\)\)"
    ):
        y.backward()


def test_load_state_dict_between_forward_and_backward_is_caught(rng) -> None:
    lin = nn.Linear(3, 2)
    y = lin(rng.standard_normal((4, 3))).sum()
    lin.load_state_dict(nn.Linear(3, 2).state_dict())
    with pytest.raises(RuntimeError, match=STALE):
        y.backward()


def test_an_in_place_change_of_a_saved_output_is_caught() -> None:
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    z = x.sigmoid()
    with mg.no_grad():
        z.mul_(2)
    with pytest.raises(RuntimeError, match=r"Sigmoid's backward needs its output \(shape \(2,\)\)"):
        z.sum().backward()


def test_writes_through_data_are_not_tracked(rng) -> None:
    """Documented, as in PyTorch: .data is the escape hatch, and the backward uses the
    changed values."""
    a = np.array([0.5, -1.0])
    x = mg.tensor(a, dtype="float64", requires_grad=True)
    z = x.sigmoid()
    z.data *= 2
    z.sum().backward()
    s = 2 / (1 + np.exp(-a))
    np.testing.assert_allclose(x.grad, s * (1 - s))


def test_a_detached_alias_and_a_layer_stand_in_share_the_counter(rng) -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    z = (y * y).sum()
    y.detach().add_(1)
    with pytest.raises(RuntimeError, match=STALE):
        z.backward()
    inputs = mg.tensor(rng.standard_normal((4, 3)))  # no grad: the layer makes a stand-in
    lin = nn.Linear(3, 2)
    lin(inputs)
    inputs.add_(1)
    with pytest.raises(RuntimeError, match=STALE):
        lin.backward(np.ones((4, 2)))


def test_views_share_the_counter_of_their_base() -> None:
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    z = (y * y).sum()
    with mg.no_grad():
        y[0].mul_(10)  # a view: the change reaches y's memory, and its version
    with pytest.raises(RuntimeError, match=STALE):
        z.backward()
    assert y.version == 1 and y[0].version == 1 and y.reshape(4).version == 1
    copy = y.reshape(4) * 1
    assert copy.version == 0  # not a view


def test_rules_for_leaves_that_require_grad() -> None:
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf tensor .* requires grad.*no_grad"):
        w -= 1
    with pytest.raises(RuntimeError, match="leaf tensor"):
        w.zero_()
    before = w
    with mg.no_grad():
        w -= 0.5 * mg.tensor([2.0, 2.0])
    assert w is before and w.requires_grad and w.is_leaf
    np.testing.assert_array_equal(w.data, [0.0, 1.0])
    assert w.version == 1


def test_the_tutorial_loop_of_manual_updates_trains() -> None:
    """PyTorch's "Learning PyTorch with Examples" update: w -= lr * w.grad; w.grad = None."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.uniform(-1, 1, (64, 1)))
    y = 2 * x + 1
    w, b = mg.zeros(1, 1, requires_grad=True), mg.zeros(1, requires_grad=True)
    for _ in range(200):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with mg.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
        w.grad = b.grad = None
    np.testing.assert_allclose([w.item(), b.item()], [2.0, 1.0], atol=1e-3)


@pytest.mark.parametrize(
    ("method", "args", "expected"),
    [
        ("add_", (2.0,), lambda x: x + 2),
        ("sub_", (2.0,), lambda x: x - 2),
        ("mul_", (3.0,), lambda x: x * 3),
        ("div_", (4.0,), lambda x: x / 4),
        ("clamp_", (-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
        ("fill_", (7.0,), lambda x: np.full_like(x, 7)),
        ("zero_", (), np.zeros_like),
        ("copy_", ([1.0, 2.0, 3.0],), lambda x: np.broadcast_to([1.0, 2.0, 3.0], x.shape)),
    ],
)
def test_each_in_place_method_outside_and_inside_a_graph(method, args, expected, rng) -> None:
    a = rng.standard_normal((2, 3))
    plain = mg.tensor(a, dtype="float64")
    assert getattr(plain, method)(*args) is plain
    np.testing.assert_allclose(plain.data, expected(a))
    assert plain.version == 1

    # recorded: the result, and the gradient of whatever the in-place op depends on, are those
    # of the same computation written out of place
    x = mg.tensor(a, dtype="float64", requires_grad=True)
    h = x * 1.5
    getattr(h, method)(*args)
    assert h.grad_fn is not None and h.version == 1
    (h * h).sum().backward()
    x2 = mg.tensor(a, dtype="float64", requires_grad=True)
    out_of_place = {
        "add_": lambda t: t + 2.0,
        "sub_": lambda t: t - 2.0,
        "mul_": lambda t: t * 3.0,
        "div_": lambda t: t / 4.0,
        "clamp_": lambda t: t.clip(-0.5, 0.5),
        "fill_": lambda t: t * 0 + 7.0,
        "zero_": lambda t: t * 0,
        "copy_": lambda t: t * 0 + mg.tensor([1.0, 2.0, 3.0], dtype="float64"),
    }[method](x2 * 1.5)
    (out_of_place * out_of_place).sum().backward()
    np.testing.assert_allclose(h.data, out_of_place.data)
    np.testing.assert_allclose(x.grad, x2.grad)


def test_a_recorded_in_place_op_keeps_the_old_values_its_node_needs() -> None:
    """mul_ needs the old self for the other operand's gradient (PyTorch saves it too)."""
    x = mg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    w = mg.tensor([3.0, 5.0], dtype="float64", requires_grad=True)
    h = x * 1
    h.mul_(w)
    h.sum().backward()
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])
    np.testing.assert_array_equal(x.grad, [3.0, 5.0])


def test_copy_sends_the_gradient_to_the_source() -> None:
    src = mg.tensor([1.0, 2.0], requires_grad=True)
    target = mg.zeros(3, 2)
    target.copy_(src)
    assert target.requires_grad
    (target * 2).sum().backward()
    np.testing.assert_array_equal(src.grad, [6.0, 6.0])


def test_recorded_in_place_on_a_tensor_with_live_views_is_refused() -> None:
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    view = y[:2]
    with pytest.raises(RuntimeError, match="shares memory with views"):
        y.add_(1)
    with pytest.raises(RuntimeError, match="shares memory with views"):
        view.add_(1)
    del view
    y.add_(1)  # the view is gone: allowed again
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


def test_in_place_errors_name_the_method_and_the_problem() -> None:
    ints = mg.tensor([1, 2])
    with pytest.raises(TypeError, match=r"add_: the result cannot be stored in place .* int64"):
        ints.add_(0.5)
    with pytest.raises(ValueError, match=r"mul_: an operand of shape \(3,\) does not broadcast"):
        mg.zeros(2).mul_(np.ones(3))
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"add_: the result has shape \(2, 2\)"):
        (x * 1).add_(mg.ones(2, 1))


def test_an_in_place_op_that_nothing_saved_does_not_stop_a_backward() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()  # saves x, not z
    z = x + 1
    with mg.no_grad():
        z.add_(5)  # nobody saved z
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_an_optimizer_step_before_an_lstm_backward_is_caught(rng) -> None:
    lstm = nn.LSTM(3, 4)
    opt = optim.SGD(lstm.parameters(), lr=0.1)
    for p in lstm.parameters():
        p.grad = np.ones(p.shape, np.float32)
    out, _ = lstm(rng.standard_normal((5, 2, 3)).astype(np.float32))
    opt.step()
    with pytest.raises(RuntimeError, match=STALE):
        out.sum().backward()
    assert all(np.all(p.grad == 1) for p in lstm.parameters())  # nothing was accumulated
