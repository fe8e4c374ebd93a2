"""The recurrent cell rules, the step splitter and the embedding lookup.

Each fused cell rule equals the same math built from primitive ops (forward and every
gradient, float64) and passes a float64 gradcheck.
"""

from __future__ import annotations

import numpy as np
import pytest
from support import FWD_ATOL, FWD_RTOL, GC_ATOL, GC_EPS, GC_RTOL, SAME_ATOL, SAME_RTOL

import minigrad as mg
from minigrad.gradcheck import gradcheck
from minigrad.ops.recurrent import (
    cell_step,
    embedding,
    gru_step,
    lstm_step,
    recurrence,
    rnn_step,
    unbind,
)

N, H = 3, 4


def lstm_composite(xg, state, w_hh):
    h, c = state[0], state[1]
    a = xg + h @ w_hh.T
    i, f = a[:, :H].sigmoid(), a[:, H : 2 * H].sigmoid()
    g, o = a[:, 2 * H : 3 * H].tanh(), a[:, 3 * H :].sigmoid()
    c_new = f * c + i * g
    return mg.stack([o * c_new.tanh(), c_new])


def gru_composite(xg, h, w_hh, b_hh):
    v = h @ w_hh.T + b_hh
    r = (xg[:, :H] + v[:, :H]).sigmoid()
    z = (xg[:, H : 2 * H] + v[:, H : 2 * H]).sigmoid()
    n = (xg[:, 2 * H :] + r * v[:, 2 * H :]).tanh()
    return (1 - z) * n + z * h


def rnn_composite(nonlinearity):
    def step(xg, h, w_hh):
        a = xg + h @ w_hh.T
        return a.tanh() if nonlinearity == "tanh" else a.relu()

    return step


def lstm_inputs(rng):
    return [
        rng.standard_normal((N, 4 * H)),
        rng.standard_normal((2, N, H)),
        rng.standard_normal((4 * H, H)),
    ]


def gru_inputs(rng):
    return [
        rng.standard_normal((N, 3 * H)),
        rng.standard_normal((N, H)),
        rng.standard_normal((3 * H, H)),
        rng.standard_normal(3 * H),
    ]


def rnn_inputs(rng):
    return [rng.standard_normal((N, H)), rng.standard_normal((N, H)), rng.standard_normal((H, H))]


CELLS = {
    "lstm": (lstm_step, lstm_composite, lstm_inputs),
    "gru": (gru_step, gru_composite, gru_inputs),
    "rnn_tanh": (lambda x, h, w: rnn_step(x, h, w, "tanh"), rnn_composite("tanh"), rnn_inputs),
    "rnn_relu": (lambda x, h, w: rnn_step(x, h, w, "relu"), rnn_composite("relu"), rnn_inputs),
}


def leaves(arrays):
    return [mg.tensor(a, dtype="float64", requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name", CELLS)
def test_fused_cell_equals_its_composite(name: str, rng) -> None:
    fused, composite, make = CELLS[name]
    arrays = make(rng)
    upstream = None
    results = []
    for fn in (fused, composite):
        inputs = leaves(arrays)
        out = fn(*inputs)
        upstream = rng.standard_normal(out.shape) if upstream is None else upstream
        (out * mg.tensor(upstream, dtype="float64")).sum().backward()
        results.append((out.numpy(), [t.grad for t in inputs]))
    (y1, g1), (y2, g2) = results
    np.testing.assert_allclose(y1, y2, rtol=SAME_RTOL, atol=SAME_ATOL)
    for a, b in zip(g1, g2, strict=True):
        np.testing.assert_allclose(a, b, rtol=SAME_RTOL, atol=SAME_ATOL)


@pytest.mark.parametrize("name", CELLS)
def test_cell_gradcheck(name: str, rng) -> None:
    fused, _, make = CELLS[name]
    assert gradcheck(fused, leaves(make(rng)), eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)


def test_lstm_cell_forward_against_numpy(rng) -> None:
    xg, state, w = lstm_inputs(rng)
    a = xg + state[0] @ w.T
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, g, o = (
        sig(a[:, :H]),
        sig(a[:, H : 2 * H]),
        np.tanh(a[:, 2 * H : 3 * H]),
        sig(a[:, 3 * H :]),
    )
    c = f * state[1] + i * g
    got = lstm_step(*leaves([xg, state, w])).numpy()
    np.testing.assert_allclose(got[1], c, rtol=FWD_RTOL, atol=FWD_ATOL)
    np.testing.assert_allclose(got[0], o * np.tanh(c), rtol=FWD_RTOL, atol=FWD_ATOL)


def test_cells_skip_gradients_nobody_asked_for(rng) -> None:
    xg, state, w = lstm_inputs(rng)
    w_t = mg.tensor(w, dtype="float64", requires_grad=True)
    lstm_step(
        mg.tensor(xg, dtype="float64"), mg.tensor(state, dtype="float64"), w_t
    ).sum().backward()
    assert w_t.grad is not None and w_t.grad.shape == w.shape


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: lstm_step(np.zeros((3, 8)), np.zeros((3, 2)), np.zeros((8, 2))), r"\(2, N, H\)"),
        (lambda: lstm_step(np.zeros((3, 8)), np.zeros((2, 3, 2)), np.zeros((8, 3))), r"\(8, 3\)"),
        (lambda: gru_step(np.zeros((3, 5)), np.zeros((3, 2)), np.zeros((6, 2))), r"\(3, 5\)"),
        (
            lambda: gru_step(np.zeros((3, 6)), np.zeros((3, 2)), np.zeros((6, 2)), np.zeros(3)),
            "b_hh",
        ),
        (lambda: rnn_step(np.zeros((3, 2)), np.zeros((3, 2)), np.eye(2), "gelu"), "gelu"),
    ],
)
def test_step_shape_errors_name_the_shapes(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_unbind_gradient_is_the_stacked_step_gradients(rng) -> None:
    x = mg.tensor(rng.standard_normal((5, 2, 3)), dtype="float64", requires_grad=True)
    weights = rng.standard_normal((5, 2, 3))
    steps = unbind(x * 1.0)
    assert [s.shape for s in steps] == [(2, 3)] * 5
    np.testing.assert_array_equal(np.stack([s.numpy() for s in steps]), x.numpy())
    # steps 1 and 3 unused; step 4 used twice
    loss = sum((steps[t] * weights[t]).sum() for t in (0, 2, 4)) + (steps[4] * 2.0).sum()
    loss.backward()
    expected = weights.copy()
    expected[[1, 3]] = 0
    expected[4] += 2.0
    np.testing.assert_allclose(x.grad, expected, rtol=FWD_RTOL)


def test_unbind_gathers_afresh_on_each_backward(rng) -> None:
    x = mg.tensor(rng.standard_normal((3, 2)), dtype="float64", requires_grad=True)
    loss = sum(((s * s).sum() for s in unbind(x * 1.0)), mg.tensor(0.0, dtype="float64"))
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first, rtol=FWD_RTOL)
    np.testing.assert_allclose(first, 2 * x.numpy(), rtol=FWD_RTOL)


def test_unbind_gradcheck(rng) -> None:
    w = rng.standard_normal((4, 3))

    def f(x):
        steps = unbind(x.tanh())
        return mg.stack([steps[3] * w[0], steps[0] * w[1], steps[3] * steps[1]])

    assert gradcheck(
        f, leaves([rng.standard_normal((4, 3))]), eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL
    )


def test_unbind_of_a_constant_records_nothing() -> None:
    steps = unbind(np.ones((2, 3)))
    assert not any(s.requires_grad for s in steps)


def test_embedding_forward_and_repeated_index_gradient(rng) -> None:
    weight = mg.tensor(rng.standard_normal((6, 3)), dtype="float64", requires_grad=True)
    idx = np.array([[1, 4, 1], [1, 0, 5]])
    out = embedding(idx, weight)
    np.testing.assert_array_equal(out.numpy(), weight.numpy()[idx])
    g = rng.standard_normal(out.shape)
    out.backward(g)
    expected = np.zeros((6, 3))
    np.add.at(expected, idx.reshape(-1), g.reshape(-1, 3))
    np.testing.assert_allclose(weight.grad, expected, rtol=FWD_RTOL, atol=FWD_ATOL)
    assert weight.grad[2].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("padding_idx", [1, -5])
def test_embedding_padding_row_gets_no_gradient(rng, padding_idx: int) -> None:
    weight = mg.tensor(rng.standard_normal((6, 3)), dtype="float64", requires_grad=True)
    embedding(np.array([1, 2, 1, 3]), weight, padding_idx=padding_idx).sum().backward()
    assert weight.grad[1].tolist() == [0.0, 0.0, 0.0]
    assert weight.grad[2].tolist() == [1.0, 1.0, 1.0]


def test_embedding_gradcheck(rng) -> None:
    weight = mg.tensor(rng.standard_normal((5, 2)), dtype="float64", requires_grad=True)
    idx = np.array([[0, 3], [3, 3], [4, 0]])
    assert gradcheck(lambda w: embedding(idx, w), [weight], eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)


def test_embedding_float32_gradient_keeps_dtype(rng) -> None:
    weight = mg.tensor(rng.standard_normal((5, 2)), requires_grad=True)
    embedding(np.array([0, 0, 4]), weight).sum().backward()
    assert weight.grad.dtype == np.float32 and weight.grad[0].tolist() == [2.0, 2.0]


def test_embedding_keeps_its_own_copy_of_the_indices(rng) -> None:
    weight = mg.tensor(rng.standard_normal((5, 2)), dtype="float64", requires_grad=True)
    idx = np.array([0, 1])
    out = embedding(idx, weight)
    idx[:] = 4
    out.sum().backward()
    assert weight.grad[:, 0].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("indices", "kwargs", "error", "message"),
    [
        (np.array([0, 5]), {}, ValueError, "index 5 is out of range for an embedding of 5 rows"),
        (np.array([-1, 2]), {}, ValueError, "index -1 is out of range"),
        (np.array([0.0, 1.0]), {}, TypeError, "integers"),
        (np.array([0, 1]), {"padding_idx": 5}, ValueError, "padding_idx 5"),
    ],
)
def test_embedding_bad_indices(indices, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        embedding(indices, mg.tensor(np.zeros((5, 2))), **kwargs)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("mode", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
def test_recurrence_equals_a_loop_of_steps(mode: str, reverse: bool, rng) -> None:
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    steps = 4
    arrays = [
        rng.standard_normal((steps, N, gates * H)),
        rng.standard_normal((2, N, H) if mode == "LSTM" else (N, H)),
        rng.standard_normal((gates * H, H)),
        rng.standard_normal(gates * H),
    ]
    upstream = rng.standard_normal((steps, *arrays[1].shape))

    def looped(xg, state, w_hh, b_hh):
        states = [None] * steps
        for t in reversed(range(steps)) if reverse else range(steps):
            state = states[t] = cell_step(mode, xg[t], state, w_hh, b_hh)
        return states

    results = []
    for run in (looped, lambda *a: recurrence(mode, *a, reverse=reverse)):
        inputs = leaves(arrays)
        out = mg.stack(run(*inputs))
        (out * mg.tensor(upstream, dtype="float64")).sum().backward()
        results.append([out.numpy()] + [t.grad for t in inputs])
    for a, b in zip(*results, strict=True):
        if a is None or b is None:  # b_hh is used by the GRU only
            assert a is None and b is None and mode != "GRU"
            continue
        np.testing.assert_allclose(a, b, rtol=SAME_RTOL, atol=SAME_ATOL)


def test_recurrence_gathers_the_weight_gradient_when_only_the_weight_learns(rng) -> None:
    xg = mg.tensor(rng.standard_normal((3, N, 4 * H)), dtype="float64")
    w = mg.tensor(rng.standard_normal((4 * H, H)), dtype="float64", requires_grad=True)
    state = mg.tensor(rng.standard_normal((2, N, H)), dtype="float64")
    assert gradcheck(
        lambda w: mg.stack(recurrence("LSTM", xg, state, w)),
        [w],
        eps=GC_EPS,
        atol=GC_ATOL,
        rtol=GC_RTOL,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("LSTM", np.zeros((3, 2, 8)), np.zeros((3, 2)), np.zeros((8, 2))), r"\(2, N, H\)"),
        (("GRU", np.zeros((0, 2, 6)), np.zeros((2, 2)), np.zeros((6, 2))), "T > 0"),
        (("RNN_TANH", np.zeros((3, 2, 3)), np.zeros((2, 2)), np.zeros((2, 2))), r"\(2, 3\)"),
        (("RNN_GELU", np.zeros((3, 2, 2)), np.zeros((2, 2)), np.zeros((2, 2))), "RNN_GELU"),
    ],
)
def test_recurrence_checks_its_inputs(args, message) -> None:
    with pytest.raises(ValueError, match=message):
        recurrence(*args)
