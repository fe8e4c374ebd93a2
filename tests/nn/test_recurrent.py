"""Recurrent layers: float64 gradchecks of every layer and option, input checks, the nested
``Layer.backward``, truncated BPTT, and the tanh RNN's BPTT derived by hand."""

from __future__ import annotations

import numpy as np
import pytest
from support import FWD_RTOL, GC_ATOL, GC_EPS, GC_RTOL, SAME_ATOL, SAME_RTOL

import minigrad as mg
import minigrad.functional as F
from minigrad import nn
from minigrad.gradcheck import gradcheck

T, N, I, H = 3, 2, 3, 2

LAYERS = {
    "rnn_tanh": lambda **kw: nn.RNN(I, H, **kw),
    "rnn_relu": lambda **kw: nn.RNN(I, H, nonlinearity="relu", **kw),
    "lstm": lambda **kw: nn.LSTM(I, H, **kw),
    "gru": lambda **kw: nn.GRU(I, H, **kw),
}
CONFIGS = {
    "plain": {},
    "deep_batch_first": {"num_layers": 2, "batch_first": True},
    "deep_bidirectional": {"num_layers": 2, "bidirectional": True},
    "no_bias_bidirectional": {"bias": False, "bidirectional": True},
}


def f64(array, requires_grad: bool = True) -> mg.Tensor:
    return mg.tensor(array, dtype="float64", requires_grad=requires_grad)


def make_inputs(name: str, config: dict, rng, with_state: bool, batched: bool = True):
    layers = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
    shape = (N, T, I) if config.get("batch_first") else (T, N, I)
    x = f64(rng.standard_normal(shape if batched else (T, I)))
    if not with_state:
        return [x]
    state_shape = (layers, N, H) if batched else (layers, H)
    h0 = f64(rng.standard_normal(state_shape))
    return [x, h0, f64(rng.standard_normal(state_shape))] if name == "lstm" else [x, h0]


def flat_outputs(layer: nn.Layer, inputs: list) -> mg.Tensor:
    """Every output of the layer (sequence and final states) as one vector."""
    x, *state = inputs
    hx = None if not state else (tuple(state) if len(state) == 2 else state[0])
    output, final = layer(x, hx)
    finals = list(final) if isinstance(final, tuple) else [final]
    return mg.concat([t.reshape(-1) for t in [output, *finals]])


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "given_state"])
def test_sequence_layer_gradcheck(name: str, config: str, with_state: bool, rng) -> None:
    layer = LAYERS[name](**CONFIGS[config]).to("float64")
    inputs = make_inputs(name, CONFIGS[config], rng, with_state)
    params = list(layer.parameters())
    assert gradcheck(
        lambda *args: flat_outputs(layer, list(args[: len(inputs)])),
        [*inputs, *params],
        eps=GC_EPS,
        atol=GC_ATOL,
        rtol=GC_RTOL,
    )


@pytest.mark.parametrize("name", LAYERS)
def test_unbatched_input_gradcheck(name: str, rng) -> None:
    layer = LAYERS[name](num_layers=2).to("float64")
    inputs = make_inputs(name, {"num_layers": 2}, rng, with_state=True, batched=False)
    out = flat_outputs(layer, inputs)
    assert out.shape == (T * H + 2 * H * (2 if name == "lstm" else 1),)
    assert gradcheck(
        lambda *args: flat_outputs(layer, list(args)),
        inputs,
        eps=GC_EPS,
        atol=GC_ATOL,
        rtol=GC_RTOL,
    )


def test_unbatched_matches_a_batch_of_one(rng) -> None:
    lstm = nn.LSTM(I, H, num_layers=2).to("float64")
    x = rng.standard_normal((T, I))
    out1, (h1, c1) = lstm(f64(x, False))
    out2, (_, c2) = lstm(f64(x[:, None], False))
    assert out1.shape == (T, H) and h1.shape == (2, H)
    np.testing.assert_allclose(out1.numpy(), out2.numpy()[:, 0], rtol=FWD_RTOL)
    np.testing.assert_allclose(c1.numpy(), c2.numpy()[:, 0], rtol=FWD_RTOL)


CELLS = {
    "rnn_cell": lambda: nn.RNNCell(I, H),
    "rnn_cell_relu": lambda: nn.RNNCell(I, H, nonlinearity="relu"),
    "gru_cell": lambda: nn.GRUCell(I, H),
    "lstm_cell": lambda: nn.LSTMCell(I, H),
    "lstm_cell_no_bias": lambda: nn.LSTMCell(I, H, bias=False),
}


@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("batched", [True, False])
def test_cell_gradcheck(name: str, batched: bool, rng) -> None:
    cell = CELLS[name]().to("float64")
    shape = (N,) if batched else ()
    x = f64(rng.standard_normal((*shape, I)))
    state = [f64(rng.standard_normal((*shape, H))) for _ in range(2 if "lstm" in name else 1)]

    def f(x, *args):
        s = args[: len(state)]
        out = cell(x, tuple(s) if len(s) == 2 else s[0])
        return mg.concat([t.reshape(-1) for t in (out if isinstance(out, tuple) else (out,))])

    inputs = [x, *state, *cell.parameters()]
    assert gradcheck(f, inputs, eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)


def test_cell_step_equals_one_step_of_the_sequence_layer(rng) -> None:
    lstm, cell = nn.LSTM(I, H).to("float64"), nn.LSTMCell(I, H).to("float64")
    cell.load_state_dict({k[: -len("_l0")]: v for k, v in lstm.state_dict().items()})
    x = rng.standard_normal((1, N, I))
    h0, c0 = rng.standard_normal((2, 1, N, H))
    _, (h, c) = lstm(f64(x, False), (f64(h0, False), f64(c0, False)))
    h_cell, c_cell = cell(f64(x[0], False), (f64(h0[0], False), f64(c0[0], False)))
    np.testing.assert_allclose(h_cell.numpy(), h.numpy()[0], rtol=SAME_RTOL, atol=SAME_ATOL)
    np.testing.assert_allclose(c_cell.numpy(), c.numpy()[0], rtol=SAME_RTOL, atol=SAME_ATOL)


def test_parameter_names_shapes_and_default_init() -> None:
    lstm = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    names = [n for n, _ in lstm.named_parameters()]
    assert names[:8] == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
        "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
    ]  # fmt: skip
    assert lstm.weight_ih_l0.shape == (80, 10) and lstm.weight_ih_l1.shape == (80, 40)
    assert nn.GRU(3, 5).weight_hh_l0.shape == (15, 5) and nn.RNN(3, 5).bias_ih_l0.shape == (5,)
    bound = 1 / np.sqrt(20)
    values = np.concatenate([p.numpy().ravel() for p in lstm.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
    assert abs(values.mean()) < 0.01 and values.dtype == np.float32
    assert [n for n, _ in nn.RNN(2, 3, bias=False).named_parameters()] == [
        "weight_ih_l0",
        "weight_hh_l0",
    ]
    assert repr(nn.LSTM(3, 4, num_layers=2, batch_first=True)) == (
        "LSTM(3, 4, num_layers=2, batch_first=True)"
    )


def test_dropout_acts_between_layers_in_training_only(rng) -> None:
    x = f64(rng.standard_normal((T, N, I)), False)
    one = nn.GRU(I, H, dropout=0.5).to("float64")
    np.testing.assert_array_equal(one(x)[0].numpy(), one.eval()(x)[0].numpy())
    deep = nn.GRU(I, H, num_layers=2, dropout=0.5).to("float64")
    evaluated = deep.eval()(x)[0].numpy()
    deep.train()
    assert not np.allclose(deep(x)[0].numpy(), evaluated)
    params = list(deep.parameters())

    def f(*params):
        mg.manual_seed(7)  # the same masks at every evaluation
        return flat_outputs(deep, [x])

    assert gradcheck(f, params, eps=GC_EPS, atol=GC_ATOL, rtol=GC_RTOL)


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (lambda: nn.LSTM(3, 4), [np.zeros((5, 2, 6))], r"\(5, 2, 6\).*input_size=3"),
        (lambda: nn.LSTM(3, 4), [np.zeros((5, 2, 3, 1))], r"got \(5, 2, 3, 1\)"),
        (lambda: nn.GRU(3, 4), [np.zeros((0, 2, 3))], "0 time steps"),
        (
            lambda: nn.GRU(3, 4, num_layers=2),
            [np.zeros((5, 2, 3)), np.zeros((1, 2, 4))],
            r"h0 has shape \(1, 2, 4\) but expected \(2, 2, 4\)",
        ),
        (
            lambda: nn.LSTM(3, 4),
            [np.zeros((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((1, 3, 4)))],
            r"c0 has shape \(1, 3, 4\) but expected \(1, 2, 4\)",
        ),
        (lambda: nn.LSTM(3, 4), [np.zeros((5, 2, 3)), np.zeros((1, 2, 4))], r"tuple \(h0, c0\)"),
        (lambda: nn.LSTMCell(3, 4), [np.zeros((2, 5))], r"\(N, 3\)"),
        (
            lambda: nn.GRUCell(3, 4),
            [np.zeros((2, 3)), np.zeros((3, 4))],
            r"hx has shape \(3, 4\) but expected \(2, 4\)",
        ),
    ],
)
def test_bad_inputs_are_named(make, args, message) -> None:
    with pytest.raises(ValueError, match=message):
        make()(*args)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: nn.LSTM(3, 4, proj_size=2), NotImplementedError, "proj_size"),
        (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, "sigmoid"),
        (lambda: nn.GRU(3, 0), ValueError, "hidden_size"),
        (lambda: nn.GRU(3, 4, dropout=1.5), ValueError, "dropout"),
        (lambda: nn.Embedding(5, 2, max_norm=1.0), NotImplementedError, "max_norm"),
        (lambda: nn.Embedding(5, 2, padding_idx=5), ValueError, "padding_idx 5"),
    ],
)
def test_unsupported_settings_are_refused(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


def test_embedding_layer(rng) -> None:
    emb = nn.Embedding(6, 3, padding_idx=-1)
    assert emb.padding_idx == 5 and emb.weight.numpy()[5].tolist() == [0.0] * 3
    out = emb(np.array([[5, 1], [1, 2]]))
    out.sum().backward()
    assert emb.weight.grad[1].tolist() == [2.0] * 3 and emb.weight.grad[5].tolist() == [0.0] * 3
    frozen = nn.Embedding.from_pretrained(rng.standard_normal((4, 2)))
    assert not frozen.weight.requires_grad and frozen(np.array([3])).shape == (1, 2)


# ---------------------------------------------------------------------------------------------
# Layer.backward through the nested record
# ---------------------------------------------------------------------------------------------
def test_lstm_backward_takes_and_returns_nested_gradients(rng) -> None:
    lstm = nn.LSTM(I, H, num_layers=2).to("float64")
    x, h0, c0 = make_inputs("lstm", {"num_layers": 2}, rng, with_state=True)
    output, (h_n, c_n) = lstm(x, (h0, c0))
    g_out, g_h, g_c = (rng.standard_normal(t.shape) for t in (output, h_n, c_n))
    expected = mg.grad([output, h_n, c_n], [x, h0, c0], [g_out, g_h, g_c], retain_graph=True)
    grad_x, (grad_h0, grad_c0) = lstm.backward((g_out, (g_h, g_c)), retain_graph=True)
    for got, want in zip((grad_x, grad_h0, grad_c0), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=SAME_RTOL, atol=SAME_ATOL)
    # only the output used: the final states' gradients are None
    want_x, want_h0 = mg.grad(output, [x, h0], g_out, retain_graph=True)
    grad_x, (grad_h0, grad_c0) = lstm.backward((g_out, None))
    np.testing.assert_allclose(grad_x, want_x, rtol=SAME_RTOL, atol=SAME_ATOL)
    np.testing.assert_allclose(grad_h0, want_h0, rtol=SAME_RTOL, atol=SAME_ATOL)


class CharModel(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(7, I)
        self.lstm = nn.LSTM(I, H, num_layers=2)
        self.head = nn.Linear(H, 7)

    def forward(self, idx):
        output, _ = self.lstm(self.embed(idx))
        return self.head(output[-1])


def test_layer_by_layer_backward_equals_loss_backward(rng) -> None:
    model = CharModel().to("float64")
    idx, target = rng.integers(0, 7, (T, N)), rng.integers(0, 7, N)
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(idx), target).backward()
    expected = {n: p.grad.copy() for n, p in model.named_parameters()}

    model.zero_grad()
    embedded = model.embed(idx)
    output, _ = model.lstm(embedded)
    loss = loss_fn(model.head(output[-1]), target)
    grad_logits, _ = loss_fn.backward()
    grad_last = model.head.backward(grad_logits)
    grad_output = np.zeros(output.shape)
    grad_output[-1] = grad_last
    grad_embedded = model.lstm.backward((grad_output, None))
    assert model.embed.backward(grad_embedded) is None  # integer input: no gradient
    assert loss.item() > 0
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.grad, expected[name], err_msg=name)


# ---------------------------------------------------------------------------------------------
# truncated BPTT
# ---------------------------------------------------------------------------------------------
def test_truncated_bptt_gives_the_gradient_of_the_last_chunk_only(rng) -> None:
    lstm = nn.LSTM(I, H).to("float64")
    chunks = rng.standard_normal((2, T, N, I))
    weights = rng.standard_normal((T, N, H))

    def chunk_loss(x, state):
        output, state = lstm(f64(x, False), state)
        return (output * weights).sum(), state

    # truncated: the state crosses the chunk boundary detached
    _, (h, c) = chunk_loss(chunks[0], None)
    loss, _ = chunk_loss(chunks[1], (h.detach(), c.detach()))
    lstm.zero_grad()
    loss.backward()
    truncated = [p.grad.copy() for p in lstm.parameters()]
    # the last chunk alone, from the same state given as constants
    lstm.zero_grad()
    chunk_loss(chunks[1], (f64(h.numpy(), False), f64(c.numpy(), False)))[0].backward()
    for got, want in zip(truncated, (p.grad for p in lstm.parameters()), strict=True):
        np.testing.assert_array_equal(got, want)
    # full BPTT through both chunks gives a different gradient
    lstm.zero_grad()
    _, state = chunk_loss(chunks[0], None)
    chunk_loss(chunks[1], state)[0].backward()
    assert not np.allclose(truncated[1], lstm.weight_hh_l0.grad)


# ---------------------------------------------------------------------------------------------
# the plain tanh RNN's BPTT, derived by hand in docs/recurrent.md
# ---------------------------------------------------------------------------------------------
def bptt_by_hand(x, h0, w_ih, w_hh, b, grad_h):
    """BPTT of h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b), given dL/dh_t from outside at every
    step (``grad_h``), exactly as derived on the docs page."""
    steps = len(x)
    hs = [h0]
    for t in range(steps):
        hs.append(np.tanh(x[t] @ w_ih.T + hs[-1] @ w_hh.T + b))
    dw_ih, dw_hh, db = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros_like(b)
    dx = np.zeros_like(x)
    dh = np.zeros_like(h0)  # the gradient arriving from step t+1
    for t in reversed(range(steps)):
        dh = dh + grad_h[t]  # total dL/dh_t: from the loss at t and from step t+1
        da = dh * (1 - hs[t + 1] ** 2)  # through tanh
        dw_ih += da.T @ x[t]
        dw_hh += da.T @ hs[t]
        db += da.sum(axis=0)
        dx[t] = da @ w_ih
        dh = da @ w_hh  # dL/dh_{t-1} through this step
    return dx, dh, dw_ih, dw_hh, db


def test_hand_derived_bptt_equals_autograd(rng) -> None:
    rnn = nn.RNN(I, H, bias=True).to("float64")
    x, h0 = f64(rng.standard_normal((5, N, I))), f64(rng.standard_normal((1, N, H)))
    grad_out = rng.standard_normal((5, N, H))
    output, _ = rnn(x, h0)
    output.backward(grad_out)
    by_hand = bptt_by_hand(
        x.numpy(),
        h0.numpy()[0],
        rnn.weight_ih_l0.numpy(),
        rnn.weight_hh_l0.numpy(),
        rnn.bias_ih_l0.numpy() + rnn.bias_hh_l0.numpy(),
        grad_out,
    )
    autograd = (x.grad, h0.grad[0], rnn.weight_ih_l0.grad, rnn.weight_hh_l0.grad)
    for got, want in zip(by_hand[:4], autograd, strict=True):
        np.testing.assert_allclose(got, want, rtol=SAME_RTOL, atol=SAME_ATOL)
    np.testing.assert_allclose(by_hand[4], rnn.bias_hh_l0.grad, rtol=SAME_RTOL, atol=SAME_ATOL)
    np.testing.assert_allclose(by_hand[4], rnn.bias_ih_l0.grad, rtol=SAME_RTOL, atol=SAME_ATOL)


def test_float32_layers_keep_float32(rng) -> None:
    gru = nn.GRU(I, H, num_layers=2, bidirectional=True)
    output, h_n = gru(rng.standard_normal((T, N, I)).astype(np.float32))
    assert output.dtype == np.float32 and h_n.dtype == np.float32
    F.cross_entropy(output.reshape(-1, 2 * H), np.zeros(T * N, np.int64)).backward()
    assert all(p.grad.dtype == np.float32 for p in gru.parameters())
