"""Layer.backward, called layer by layer, reproduces loss.backward() exactly; models learn."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn


def mlp() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(12, 16),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(16, 8),
        nn.Tanh(),
        nn.Linear(8, 4),
    )


def cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Dropout(0.3),
        nn.Flatten(),
        nn.Linear(6 * 2 * 2, 4),
    )


def _data(kind: str, rng):
    x = rng.standard_normal((8, 12) if kind == "mlp" else (8, 1, 8, 8))
    return x.astype(np.float32), rng.integers(0, 4, 8)


def _run(model, loss_fn, x, y, how: str):
    """Gradients of every parameter (and of the input, where computed) after one backward."""
    model.zero_grad()
    mg.manual_seed(7)  # the same dropout masks in every run
    loss = loss_fn(model(x), y)
    grad_x = None
    if how == "autograd":
        loss.backward()
    elif how == "sequential":
        grad_logits, _ = loss_fn.backward()
        grad_x = model.backward(grad_logits)
    else:  # layer by layer, last to first
        grad, _ = loss_fn.backward()
        for layer in reversed(list(model)):
            grad = layer.backward(grad)
        grad_x = grad
    return {n: p.grad.copy() for n, p in model.named_parameters()}, grad_x, loss.item()


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_layerwise_backward_equals_autograd_exactly(kind: str, rng) -> None:
    model = mlp() if kind == "mlp" else cnn()
    loss_fn = nn.CrossEntropyLoss()
    x, y = _data(kind, rng)
    reference, _, loss_a = _run(model, loss_fn, x, y, "autograd")
    for how in ("layers", "sequential"):
        grads, grad_x, loss_b = _run(model, loss_fn, x, y, how)
        assert loss_b == loss_a
        for name, g in reference.items():
            np.testing.assert_array_equal(grads[name], g, err_msg=f"{how}: {name}")
        assert grad_x.shape == x.shape and grad_x.dtype == np.float32


def test_input_gradient_matches_autograd_on_a_grad_input(rng) -> None:
    model, loss_fn = mlp(), nn.CrossEntropyLoss()
    x, y = _data("mlp", rng)
    xt = mg.tensor(x, requires_grad=True)
    mg.manual_seed(7)
    loss_fn(model(xt), y).backward()
    _, grad_x, _ = _run(model, loss_fn, x, y, "layers")
    np.testing.assert_array_equal(grad_x, xt.grad)


def test_layer_backward_accumulates_like_autograd(rng) -> None:
    lin = nn.Linear(3, 2)
    x = rng.standard_normal((4, 3))
    for _ in range(2):
        lin(x)
        lin.backward(np.ones((4, 2), np.float32))
    np.testing.assert_allclose(lin.bias.grad, [8.0, 8.0])


def test_layer_backward_twice_needs_retain_graph(rng) -> None:
    lin = nn.Linear(3, 2)
    lin(rng.standard_normal((4, 3)))
    lin.backward(np.ones((4, 2)), retain_graph=True)
    lin.backward(np.ones((4, 2)))
    with pytest.raises(RuntimeError, match="retain_graph"):
        lin.backward(np.ones((4, 2)))


def _overfit(model, x, y, steps: int, lr: float) -> tuple[float, float]:
    loss_fn = nn.CrossEntropyLoss()
    first = last = None
    for _ in range(steps):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        first = loss.item() if first is None else first
        last = loss.item()
    return first, last


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_models_overfit_32_samples(kind: str) -> None:
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 4))
        x = rng.standard_normal((32, 20)).astype(np.float32)
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(8 * 4 * 4, 4),
        )
        x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 4, 32)
    first, last = _overfit(model, x, y, steps=150, lr=0.2)
    assert last < first / 10, (first, last)


class Step(nn.Layer):
    """A recurrent-style layer: ``(x, (h, c)) -> (y, (h', c'))``."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(np.linspace(-1.0, 1.0, 9).reshape(3, 3))

    def forward(self, x, state):
        h, c = state
        c2 = c * 0.5 + (x @ self.w).tanh()
        h2 = c2.tanh() * h
        return h2 * 2.0, (h2, c2)


def _nested_inputs(rng):
    return tuple(mg.tensor(rng.standard_normal((2, 3)), dtype="float64") for _ in range(3))


def test_nested_backward_equals_autograd_and_returns_the_input_structure(rng) -> None:
    layer = Step().to("float64")
    x, h, c = _nested_inputs(rng)
    g_y, g_h, g_c = (rng.standard_normal((2, 3)) for _ in range(3))

    xs = [t.detach().requires_grad_() for t in (x, h, c)]
    y, (h2, c2) = layer(xs[0], (xs[1], xs[2]))
    ((y * g_y).sum() + (h2 * g_h).sum() + (c2 * g_c).sum()).backward()
    expected_w = layer.w.grad.copy()
    layer.zero_grad()

    layer(x, (h, c))
    grad_x, (grad_h, grad_c) = layer.backward((g_y, (g_h, g_c)))
    np.testing.assert_array_equal(layer.w.grad, expected_w)
    for got, t in zip((grad_x, grad_h, grad_c), xs, strict=True):
        np.testing.assert_array_equal(got, t.grad)


def test_nested_backward_with_unused_outputs_and_constant_inputs(rng) -> None:
    layer = Step().to("float64")
    x, h, c = _nested_inputs(rng)
    g_c = rng.standard_normal((2, 3))
    c_leaf = c.detach().requires_grad_()
    _, (_, c2) = layer(x, (h, c_leaf))
    (c2 * g_c).sum().backward()
    expected = c_leaf.grad.copy()

    layer(x, (h, c))
    grad_x, (grad_h, grad_c) = layer.backward((None, (None, g_c)))  # only c' is used
    np.testing.assert_array_equal(grad_c, expected)
    assert grad_h is None  # c' does not depend on h: no gradient reaches it
    layer(x, (h, c))
    grad_x, (grad_h, grad_c) = layer.backward((rng.standard_normal((2, 3)), None))
    assert grad_x.shape == grad_h.shape == grad_c.shape == (2, 3)


def test_nested_backward_refuses_a_gradient_in_the_wrong_structure(rng) -> None:
    layer = Step().to("float64")
    x, h, c = _nested_inputs(rng)
    layer(x, (h, c))
    with pytest.raises(ValueError, match=r"tuple of 2.*same structure"):
        layer.backward(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="every gradient given was None"):
        layer.backward((None, (None, None)))


def test_a_layer_returning_a_non_differentiable_output_alongside(rng) -> None:
    class WithIndex(nn.Layer):
        def forward(self, x):
            return x.relu(), x.argmax(axis=1)

    layer = WithIndex()
    x = rng.standard_normal((3, 4)).astype(np.float32)
    _, idx = layer(x)
    assert not idx.requires_grad
    grad = layer.backward((np.ones((3, 4)), None))
    np.testing.assert_array_equal(grad, (x > 0).astype(np.float32))
    with pytest.raises(RuntimeError, match="output 1 does not require grad"):
        layer.backward((np.ones((3, 4)), np.ones(3)))
