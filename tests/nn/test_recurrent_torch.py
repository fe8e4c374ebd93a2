"""Recurrent layers against PyTorch, in float64: a converted state dict loads unchanged and
gives the same outputs, final states and every gradient (skipped when torch is absent)."""

from __future__ import annotations

import numpy as np
import pytest
from support import SAME_ATOL, SAME_RTOL

import minigrad as mg
from minigrad import nn

torch = pytest.importorskip("torch")

T, N, I, H = 4, 3, 5, 4
KINDS = {
    "rnn_tanh": ("RNN", {}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "gru": ("GRU", {}),
}
CONFIGS = {
    "plain": {},
    "deep_batch_first": {"num_layers": 3, "batch_first": True},
    "deep_bidirectional": {"num_layers": 2, "bidirectional": True},
    "no_bias": {"bias": False},
}


def twins(kind: str, settings: dict, cell: bool = False):
    cls, extra = KINDS[kind]
    name = cls + "Cell" if cell else cls
    theirs = getattr(torch.nn, name)(I, H, **extra, **settings).double()
    ours = getattr(nn, name)(I, H, **extra, **settings).to("float64")
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(state) == [k for k, _ in ours.named_parameters()]
    ours.load_state_dict(state)
    return ours, theirs


def pair(array):
    return mg.tensor(array, dtype="float64", requires_grad=True), torch.tensor(
        array, requires_grad=True
    )


def assert_same(ours, theirs, what: str) -> None:
    np.testing.assert_allclose(ours, theirs, rtol=SAME_RTOL, atol=SAME_ATOL, err_msg=what)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("kind", KINDS)
def test_sequence_layer_matches_pytorch(kind: str, config: str, rng) -> None:
    settings = CONFIGS[config]
    ours, theirs = twins(kind, settings)
    layers = settings.get("num_layers", 1) * (2 if settings.get("bidirectional") else 1)
    x, tx = pair(rng.standard_normal((N, T, I) if settings.get("batch_first") else (T, N, I)))
    states = [pair(rng.standard_normal((layers, N, H))) for _ in range(2 if kind == "lstm" else 1)]
    hx = tuple(s[0] for s in states) if kind == "lstm" else states[0][0]
    thx = tuple(s[1] for s in states) if kind == "lstm" else states[0][1]
    out, final = ours(x, hx)
    tout, tfinal = theirs(tx, thx)
    finals = list(final) if kind == "lstm" else [final]
    tfinals = list(tfinal) if kind == "lstm" else [tfinal]
    grads = [rng.standard_normal(t.shape) for t in [out, *finals]]
    for a, b in zip([out, *finals], [tout, *tfinals], strict=True):
        assert_same(a.numpy(), b.detach().numpy(), "forward")
    mg.concat(
        [(t * g).reshape(-1) for t, g in zip([out, *finals], grads, strict=True)]
    ).sum().backward()
    sum(
        (t * torch.tensor(g)).sum() for t, g in zip([tout, *tfinals], grads, strict=True)
    ).backward()
    for (a, b), what in zip([(x, tx), *states], ["x", "h0", "c0"], strict=False):
        assert_same(a.grad, b.grad.numpy(), what)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_same(p.grad, tparams[name].grad.numpy(), name)


@pytest.mark.parametrize("kind", KINDS)
def test_cell_matches_pytorch(kind: str, rng) -> None:
    ours, theirs = twins(kind, {}, cell=True)
    x, tx = pair(rng.standard_normal((N, I)))
    states = [pair(rng.standard_normal((N, H))) for _ in range(2 if kind == "lstm" else 1)]
    if kind == "lstm":
        outs = ours(x, (states[0][0], states[1][0]))
        touts = theirs(tx, (states[0][1], states[1][1]))
    else:
        outs, touts = (ours(x, states[0][0]),), (theirs(tx, states[0][1]),)
    grads = [rng.standard_normal((N, H)) for _ in outs]
    for a, b in zip(outs, touts, strict=True):
        assert_same(a.numpy(), b.detach().numpy(), "forward")
    mg.concat([(a * g).reshape(-1) for a, g in zip(outs, grads, strict=True)]).sum().backward()
    sum((b * torch.tensor(g)).sum() for b, g in zip(touts, grads, strict=True)).backward()
    for (a, b), what in zip([(x, tx), *states], ["x", "h", "c"], strict=False):
        assert_same(a.grad, b.grad.numpy(), what)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_same(p.grad, tparams[name].grad.numpy(), name)


def test_embedding_matches_pytorch(rng) -> None:
    theirs = torch.nn.Embedding(7, 3, padding_idx=2).double()
    ours = nn.Embedding(7, 3, padding_idx=2).to("float64")
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    idx = rng.integers(0, 7, (4, 5))
    g = rng.standard_normal((4, 5, 3))
    (ours(idx) * g).sum().backward()
    (theirs(torch.tensor(idx)) * torch.tensor(g)).sum().backward()
    assert_same(ours.weight.grad, theirs.weight.grad.numpy(), "weight")
