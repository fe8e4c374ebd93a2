"""Anomaly mode stops at the first NaN or infinity, naming the op, the phase, the layer and the
line of user code that created the op; outside the mode nothing is checked."""

from __future__ import annotations

import inspect
import threading

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.optim as optim
from minigrad import autograd


def here() -> int:
    """The line number of the caller."""
    return inspect.currentframe().f_back.f_lineno


def test_log_of_a_negative_is_caught_in_the_forward_at_its_line() -> None:
    x = mg.tensor([1.0, -1.0, 4.0], requires_grad=True)
    with pytest.raises(mg.AnomalyError) as caught, mg.detect_anomaly():
        y = x * 2
        line = here() + 1
        y.log()  # the culprit
    error = caught.value
    assert isinstance(error, RuntimeError)
    assert (error.op, error.phase, error.layer) == ("Log", "forward", None)
    assert error.site == f"{__file__}:{line}: y.log()  # the culprit"
    assert error.inputs == ["input 0: shape (3,) min -2 max 8"]
    message = str(error)
    assert message.startswith("Log produced NaN or infinity in its forward pass\n")
    assert "output: shape (3,) min 0.6931 max 2.079, 1 NaN and 0 inf of 3 values" in message


def test_a_backward_anomaly_names_the_rule_its_layer_and_the_forward_line() -> None:
    class Root(nn.Layer):
        def forward(self, x):
            return x.sqrt()  # finite forward at 0, infinite gradient

    model = nn.Sequential(nn.Linear(2, 2), Root())
    with mg.no_grad():
        model[0].weight.data[...] = 0.0
        model[0].bias.data[...] = 0.0
    line = inspect.getsourcelines(Root.forward)[1] + 1
    with mg.detect_anomaly(model):
        y = model(np.ones((1, 2))).sum()
        with pytest.raises(mg.AnomalyError) as caught:
            y.backward()
    error = caught.value
    assert (error.op, error.phase, error.layer) == ("Sqrt", "backward", "1")
    assert error.site.startswith(f"{__file__}:{line}: return x.sqrt()")
    assert error.inputs[0] == "input 0: shape (1, 2) min 0 max 0"
    assert error.details[0] == "gradient arriving: shape (1, 2) min 1 max 1"
    assert error.details[1].startswith("gradient for input 0: shape (1, 2), 0 NaN and 2 inf")


def test_a_huge_learning_rate_is_caught_where_the_first_infinity_appears(rng) -> None:
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    opt = optim.SGD(model.parameters(), lr=1e18)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    loss_fn = nn.CrossEntropyLoss()
    with mg.detect_anomaly(model), pytest.raises(mg.AnomalyError) as caught:
        for _ in range(10):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
    error = caught.value
    # one step of 1e18 makes the weights huge; the first op to overflow float32 is a Linear
    assert (error.op, error.phase) == ("Linear", "forward")
    assert error.layer in ("0", "2")
    assert "loss = loss_fn(model(x), y)" in error.site


def test_an_op_created_outside_the_mode_has_no_line() -> None:
    x = mg.tensor([0.0], requires_grad=True)
    y = x.sqrt()
    with mg.detect_anomaly(), pytest.raises(mg.AnomalyError) as caught:
        y.sum().backward()
    assert caught.value.site is None
    assert "created outside anomaly mode" in str(caught.value)
    assert "input statistics unknown" in str(caught.value)


def test_without_the_mode_nothing_is_checked_or_captured() -> None:
    x = mg.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = x.log()
    assert np.isnan(y.data).all()
    assert getattr(y.grad_fn, "_origin", None) is None
    assert autograd._observer.active is None


def test_the_mode_belongs_to_its_thread() -> None:
    results = []

    def elsewhere() -> None:
        with np.errstate(invalid="ignore"):
            results.append(np.isnan(mg.tensor([-1.0]).log().data).all())

    with mg.detect_anomaly():
        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()
    assert results == [True]  # the other thread computed its NaN undisturbed


def test_a_trace_records_the_row_the_anomaly_stops_at() -> None:
    x = mg.tensor([-1.0], requires_grad=True)
    with mg.trace() as trace, mg.detect_anomaly(), pytest.raises(mg.AnomalyError):
        x.log()
    assert [r.op for r in trace.rows] == ["Log"]
    assert autograd._observer.active is None
