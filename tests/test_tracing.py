"""mg.trace: every op's forward and backward, row by row, with layers, shapes and numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
import minigrad.nn as nn
from minigrad import autograd
from minigrad.tracing import Row


class HandNet(nn.Layer):
    """The 2-3-2 network of docs/backprop-by-hand.md, with its parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.relu, self.fc2 = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2)
        self.to("float64")
        self.load_state_dict(
            {
                "fc1.weight": np.array([[0.5, -0.5], [0.5, 1.0], [1.0, -0.5]]),
                "fc1.bias": np.array([-1.0, -1.0, 1.0]),
                "fc2.weight": np.array([[-2.0, 0.5, -0.5], [-0.5, 0.5, 0.5]]),
                "fc2.bias": np.array([-0.5, -1.0]),
            }
        )

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


# Every number of the page's hand calculation, in the order the backward pass meets them.
HAND_FORWARD = {"fc1": [[-1.5, 1.5, 1.0]], "relu": [[0.0, 1.5, 1.0]], "fc2": [[-0.25, 0.25]]}
HAND_BACKWARD = [
    ("MSELoss", {"#3": [[-0.25, -0.75]]}),  # step 1: dy = y - t
    (
        "fc2",  # step 2
        {
            "#2": [[0.875, -0.5, -0.25]],
            "fc2.weight": [[0.0, -0.375, -0.25], [0.0, -1.125, -0.75]],
            "fc2.bias": [-0.25, -0.75],
        },
    ),
    ("relu", {"#1": [[0.0, -0.5, -0.25]]}),  # step 3: the gate
    (
        "fc1",  # step 4
        {"fc1.weight": [[0.0, 0.0], [-0.5, -1.0], [-0.25, -0.5]], "fc1.bias": [0.0, -0.5, -0.25]},
    ),
]


@pytest.fixture
def hand_trace():
    net, loss_fn = HandNet(), nn.MSELoss()
    x, t = np.array([[1.0, 2.0]]), np.array([[0.0, 1.0]])
    with mg.trace(net) as trace:
        loss = loss_fn(net(x), t)
        loss.backward()
    return trace, loss


def test_the_trace_reproduces_the_hand_calculation_row_by_row(hand_trace) -> None:
    trace, loss = hand_trace
    forward = [r for r in trace.rows if r.phase == "forward"]
    backward = [r for r in trace.rows if r.phase == "backward"]
    assert [(r.step, r.op, r.layer) for r in forward] == [
        (1, "Linear", "fc1"),
        (2, "ReLU", "relu"),
        (3, "Linear", "fc2"),
        (4, "MSELoss", "MSELoss"),
    ]
    for row in forward[:3]:
        np.testing.assert_array_equal(row.output.values, HAND_FORWARD[row.layer])
    assert forward[3].output.values == 0.3125 == loss.item()
    assert [r.layer for r in backward] == [layer for layer, _ in HAND_BACKWARD]
    assert backward[0].output.values == 1.0  # dL/dL
    for row, (_, numbers) in zip(backward, HAND_BACKWARD, strict=True):
        sent = {v.name: v.values for v in row.inputs if v is not None}
        assert sorted(sent) == sorted(numbers), row
        for name, values in numbers.items():
            np.testing.assert_array_equal(sent[name], values, err_msg=f"row {row.step}: {name}")
    # what arrives at a row's output is what the row before sent to it
    for before, row in itertools.pairwise(backward):
        sent = {v.name: v for v in before.inputs if v is not None}
        np.testing.assert_array_equal(row.output.values, sent[row.node].values)


def test_rows_carry_names_shapes_tiers_and_layer_calls(hand_trace) -> None:
    trace, _ = hand_trace
    first = trace.rows[0]
    assert isinstance(first, Row)
    assert [v.name for v in first.inputs] == ["input1", "fc1.weight", "fc1.bias"]
    assert [v.shape for v in first.inputs] == [(1, 2), (3, 2), (3,)]
    assert first.tier == "reference" and first.layers == ("HandNet", "fc1")
    assert len({r.calls for r in trace.rows if r.layer == "fc1"}) == 1
    assert trace.rows[3].layers == ("MSELoss",) and trace.rows[3].inputs[1].name == "input2"
    assert trace.rows[0].output.norm == pytest.approx(np.sqrt(1.5**2 * 2 + 1))


def test_the_table_shows_every_row_and_value(hand_trace) -> None:
    trace, _ = hand_trace
    text = str(trace)
    lines = text.splitlines()
    assert lines[0].split() == ["step", "phase", "op", "layer", "tensor", "shape", "values"]
    assert "-> grad  fc2.weight  (2, 3)  [[ 0. -0.375 -0.25 ] [ 0. -1.125 -0.75 ]]" in text
    assert trace.table("backward").count("backward") == 4
    assert "forward" not in trace.table("backward")
    assert repr(trace) == "<Trace of 8 rows>"


def test_large_tensors_keep_their_norm_not_their_numbers(rng) -> None:
    x = mg.tensor(rng.standard_normal((5, 5)), requires_grad=True)
    with mg.trace(max_values=4) as trace:
        (x * 2).sum().backward()
    mul = trace.rows[0]
    assert mul.output.values is None
    assert mul.output.norm == pytest.approx(np.linalg.norm(2 * x.data), rel=1e-5)
    assert mul.output.describe().startswith("norm ")
    assert trace.rows[1].output.values == pytest.approx((2 * x.data).sum(), rel=1e-5)


def test_a_trace_of_only_the_backward_names_nodes_by_their_op(rng) -> None:
    x = mg.tensor(rng.standard_normal(3), requires_grad=True)
    loss = (x.exp() * 3).sum()
    with mg.trace() as trace:
        loss.backward()
    assert [r.phase for r in trace.rows] == ["backward"] * 3
    assert [r.node for r in trace.rows] == ["Sum1", "Mul1", "Exp1"]
    assert trace.rows[-1].inputs[0].name == "leaf1"
    np.testing.assert_allclose(trace.rows[-1].inputs[0].values, 3 * np.exp(x.data), rtol=1e-6)


def test_a_forward_without_grad_still_links_results_to_their_rows() -> None:
    with mg.no_grad(), mg.trace() as trace:
        (mg.tensor([1.0, -2.0]).relu() * 2).sum()
    assert [r.node for r in trace.rows] == ["#1", "#2", "#3"]
    assert trace.rows[1].inputs[0].name == "#1"  # not an anonymous input
    assert trace.rows[1].inputs[1].name == "constant"


def test_the_tier_is_recorded_and_the_op_name_is_the_same_on_both(rng) -> None:
    x = mg.tensor(rng.standard_normal((2, 1, 4, 4)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((2, 1, 3, 3)), requires_grad=True)
    rows = {}
    for tier in ("fast", "reference"):
        with mg.kernels.use(tier), mg.trace() as trace:
            F.conv2d(x, w, padding=1).sum().backward()
        rows[tier] = trace.rows[0]
    assert rows["fast"].op == rows["reference"].op == "Conv2d"
    assert (rows["fast"].tier, rows["reference"].tier) == ("fast", "reference")


def test_a_custom_function_is_traced_as_custom(rng) -> None:
    class Cube(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return 3 * x**2 * grad

    x = mg.tensor([2.0], requires_grad=True)
    with mg.trace() as trace:
        Cube.apply(x).sum().backward()
    assert trace.rows[0].tier == "custom"
    assert trace.rows[-1].inputs[0].values.tolist() == [12.0]


def test_nested_layers_get_dotted_names_and_hook_plumbing_stays_hidden(rng) -> None:
    model = nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), nn.Linear(4, 2))
    model[0][0].register_full_backward_hook(lambda layer, gi, go: None)
    with mg.trace(model) as trace:
        model(rng.standard_normal((2, 3))).sum().backward()
    ops = [r.op for r in trace.rows if r.phase == "forward"]
    assert ops == ["Linear", "ReLU", "Linear", "Sum"]  # no LayerCall/EnterLayer/LeaveLayer
    assert trace.rows[0].layers == ("Sequential", "0", "0.0")
    assert trace.rows[0].inputs[0].name == "input1"  # through the hook's boundary node
    assert trace.rows[1].inputs[0].name == "#1"
    assert trace.rows[-1].layer == "0.0"


def test_tracing_costs_nothing_once_the_block_ends(rng) -> None:
    with mg.trace():
        assert autograd._observer.active is not None
    assert autograd._observer.active is None
    y = mg.tensor([1.0], requires_grad=True) * 2
    assert not hasattr(y.grad_fn, "_origin")  # ops outside record no origin


def test_traces_nest_and_each_sees_its_own_rows() -> None:
    x = mg.tensor([1.0], requires_grad=True)
    with mg.trace() as outer:
        y = x * 2
        with mg.trace() as inner:
            z = y + 1
        z.sum().backward()
    assert [r.op for r in inner.rows] == ["Add"]
    assert [r.op for r in outer.rows] == ["Mul", "Add", "Sum", "Sum", "Add", "Mul"]
