"""Four PyTorch-era scripts, ported to minigrad, as tests of the idioms they use.

Each test is the script's code written against minigrad (``import minigrad as torch``-style
edits only where the docs page "Coming from PyTorch" says so), trained for a few steps on
its own data, and checked twice: it learns (the loss falls), and, when PyTorch is installed,
it takes exactly PyTorch's steps from the same starting weights (float64, tight tolerance).

Sources (the originals are not copied here; see docs/porting.md):

- "Learning PyTorch with Examples", custom ``nn.Module``: pytorch/tutorials
  ``beginner_source/examples_nn/two_layer_net_module.py`` (commit 6f53cd7c).
- the same tutorial, custom autograd ReLU: ``beginner_source/examples_autograd/
  two_layer_net_custom_function.py`` (commit 4ba12621).
- the same tutorial, Legendre polynomial with a custom Function: ``beginner_source/
  examples_autograd/polynomial_custom_function.py`` (commit 02ed6c5c).
- micrograd's demo, a 2-16-16-1 MLP with an SVM loss on two moons: karpathy/micrograd
  ``demo.ipynb`` (commit c911406e), vectorized with ``nn.Linear``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.autograd import TensorFunction

TORCH_RTOL = 1e-9  # float64 on both sides: the same arithmetic up to summation order


# ---------------------------------------------------------------- two-layer net, nn.Module
class TwoLayerNet(nn.Module):
    def __init__(self, D_in, H, D_out):
        super(TwoLayerNet, self).__init__()  # noqa: UP008 (the tutorial's spelling)
        self.linear1 = nn.Linear(D_in, H)
        self.linear2 = nn.Linear(H, D_out)

    def forward(self, x):
        h_relu = self.linear1(x).clamp(min=0)
        y_pred = self.linear2(h_relu)
        return y_pred


def _two_layer_module(x, y, state, steps):
    model = TwoLayerNet(8, 6, 3).to(mg.float64)
    model.load_state_dict(state)
    criterion = nn.MSELoss(reduction="sum")
    optimizer = mg.optim.SGD(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, model


def test_two_layer_module_learns_and_matches_torch(rng) -> None:
    x = mg.tensor(rng.standard_normal((16, 8)), dtype=mg.float64)
    y = mg.tensor(rng.standard_normal((16, 3)), dtype=mg.float64)
    state = TwoLayerNet(8, 6, 3).to(mg.float64).state_dict()
    losses, model = _two_layer_module(x, y, state, steps=30)
    assert losses[-1] < 0.7 * losses[0]
    torch = pytest.importorskip("torch")

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = torch.nn.Linear(8, 6)
            self.linear2 = torch.nn.Linear(6, 3)

        def forward(self, x):
            return self.linear2(self.linear1(x).clamp(min=0))

    reference = TorchNet().double()
    # state dicts move across: minigrad's arrays load into PyTorch unchanged
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    opt = torch.optim.SGD(reference.parameters(), lr=1e-3)
    tx, ty = torch.from_numpy(x.numpy().copy()), torch.from_numpy(y.numpy().copy())
    want = []
    for _ in range(30):
        loss = torch.nn.MSELoss(reduction="sum")(reference(tx), ty)
        want.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(losses, want, rtol=TORCH_RTOL)
    back = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(value, back[name], rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- custom autograd ReLU
class MyReLU(TensorFunction):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors  # noqa: A001 (the tutorial's name)
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


def _custom_relu_run(lib, relu, x, y, w1, w2, steps, learning_rate=1e-4):
    losses = []
    for _ in range(steps):
        y_pred = relu(x.mm(w1)).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with lib.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return losses


def test_custom_function_relu_learns_and_matches_torch(rng) -> None:
    data = [rng.standard_normal(s) for s in [(16, 20), (16, 4), (20, 10), (10, 4)]]
    x, y = (mg.tensor(a, dtype=mg.float64) for a in data[:2])
    w1, w2 = (mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in data[2:])
    losses = _custom_relu_run(mg, MyReLU.apply, x, y, w1, w2, steps=40)
    assert losses[-1] < 0.5 * losses[0]
    assert w1.is_leaf and w1.requires_grad  # the in-place update kept the parameter
    torch = pytest.importorskip("torch")

    class TorchReLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors  # noqa: A001 (the tutorial's name)
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    tx, ty = (torch.tensor(a) for a in data[:2])
    t1, t2 = (torch.tensor(a, requires_grad=True) for a in data[2:])
    want = _custom_relu_run(torch, TorchReLU.apply, tx, ty, t1, t2, steps=40)
    np.testing.assert_allclose(losses, want, rtol=TORCH_RTOL)
    np.testing.assert_allclose(w1.numpy(), t1.detach().numpy(), rtol=1e-9)


# ---------------------------------------------------------------- Legendre polynomial fit
class LegendrePolynomial3(TensorFunction):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors  # noqa: A001 (the tutorial's name)
        return grad_output * 1.5 * (5 * input**2 - 1)


def _legendre_run(lib, P3, steps, dtype, learning_rate=5e-6):
    x = lib.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = lib.sin(x)
    a = lib.full((), 0.0, dtype=dtype, requires_grad=True)
    b = lib.full((), -1.0, dtype=dtype, requires_grad=True)
    c = lib.full((), 0.0, dtype=dtype, requires_grad=True)
    d = lib.full((), 0.3, dtype=dtype, requires_grad=True)
    losses = []
    for _ in range(steps):
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with lib.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return losses, [a.item(), b.item(), c.item(), d.item()]


def test_legendre_fit_learns_and_matches_torch() -> None:
    losses, coefficients = _legendre_run(mg, LegendrePolynomial3.apply, 300, mg.float64)
    assert losses[-1] < 0.3 * losses[0]
    torch = pytest.importorskip("torch")

    class TorchP3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors  # noqa: A001 (the tutorial's name)
            return grad_output * 1.5 * (5 * input**2 - 1)

    want_losses, want = _legendre_run(torch, TorchP3.apply, 300, torch.float64)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-8)
    np.testing.assert_allclose(coefficients, want, rtol=1e-8, atol=1e-15)


class LegendreOnArrays(mg.autograd.Function):
    """The tutorial's Function unchanged, on minigrad's array-based ``Function``: its body is
    plain arithmetic, which NumPy arrays do as well."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors  # noqa: A001 (the tutorial's name)
        return grad_output * 1.5 * (5 * input**2 - 1)


def test_legendre_fit_ports_unchanged_onto_array_functions() -> None:
    on_tensors = _legendre_run(mg, LegendrePolynomial3.apply, 50, mg.float64)
    on_arrays = _legendre_run(mg, LegendreOnArrays.apply, 50, mg.float64)
    assert on_arrays == on_tensors


def test_legendre_fit_in_float32_matches_the_tutorial_setup() -> None:
    """The tutorial's own dtype (``torch.float``): the same fit runs in float32."""
    losses, _ = _legendre_run(mg, LegendrePolynomial3.apply, 100, mg.float)
    assert losses[-1] < losses[0]


# ---------------------------------------------------------------- micrograd's demo MLP
def _moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles with noise 0.1 (what sklearn's make_moons draws)."""
    t = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    xs = np.where(upper, np.cos(t), 1 - np.cos(t))
    ys = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    X = np.stack([xs, ys], axis=1) + 0.1 * rng.standard_normal((n, 2))
    return X, np.where(upper, 1.0, -1.0)


def _micrograd_demo(model, X, y, steps, lib=mg):
    history = []
    for k in range(steps):
        # forward: scores, svm "max-margin" loss, L2 regularization, accuracy
        scores = model(X)[:, 0]
        losses = (1 + -y * scores).relu()
        data_loss = losses.sum() * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum((p * p).sum() for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = ((y > 0) == (scores.data > 0)).float().mean().item()
        # backward
        model.zero_grad()
        total_loss.backward()
        # update (sgd)
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append((total_loss.item(), accuracy))
    return history


def _mlp(lib):
    return lib.nn.Sequential(
        lib.nn.Linear(2, 16),
        lib.nn.ReLU(),
        lib.nn.Linear(16, 16),
        lib.nn.ReLU(),
        lib.nn.Linear(16, 1),
    )


def test_micrograd_demo_mlp_learns_and_matches_torch(rng) -> None:
    X, y = _moons(100, rng)
    mg.manual_seed(1337)
    model = _mlp(mg).to(mg.float64)
    state = model.state_dict()
    history = _micrograd_demo(
        model, mg.tensor(X, dtype=mg.float64), mg.tensor(y, dtype=mg.float64), 60
    )
    assert history[-1][0] < 0.5 * history[0][0]
    assert history[-1][1] >= 0.9
    torch = pytest.importorskip("torch")
    reference = _mlp(torch).double()
    reference.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})

    want = _micrograd_demo(reference, torch.tensor(X), torch.tensor(y), 60, lib=torch)
    np.testing.assert_allclose([h[0] for h in history], [w[0] for w in want], rtol=1e-8)
    assert [h[1] for h in history] == [w[1] for w in want]
