"""SGD against its update equations written out by hand in float64."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from support import (
    F32_ATOL,
    F32_RTOL,
    FWD_ATOL,
    FWD_RTOL,
    GROUP_LRS,
    skipping_none,
    step_through,
    subprocess_env,
    two_groups,
)

import minigrad as mg
from minigrad.optim import SGD

STEPS = 5


def sgd_reference(w0, grads, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    """PyTorch's SGD, one line per equation, in float64; the parameter after every step."""
    w, buf, out = w0.astype(np.float64), None, []
    for grad in grads:
        d = grad + weight_decay * w
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        w = w - lr * d
        out.append(w)
    return out


CONFIGS = {
    "plain": {},
    "momentum": {"momentum": 0.9},
    "dampening": {"momentum": 0.8, "dampening": 0.3},
    "nesterov": {"momentum": 0.9, "nesterov": True},
    "weight_decay": {"weight_decay": 0.05},
    "all": {"momentum": 0.7, "nesterov": True, "weight_decay": 0.1},
    "momentum_decay_dampening": {"momentum": 0.5, "dampening": 0.9, "weight_decay": 0.2},
}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
@pytest.mark.parametrize("shape", [(3, 4), (5,), ()])
def test_matches_reference(rng, config, shape) -> None:
    w0 = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(STEPS)]
    p = mg.Tensor(w0.copy(), requires_grad=True, dtype="float64")
    history = step_through(SGD([p], lr=0.1, **config), [p], [[g] for g in grads])
    expected = sgd_reference(w0, grads, lr=0.1, **config)
    for (got,), want in zip(history, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=FWD_RTOL, atol=FWD_ATOL)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_two_groups_and_a_gradient_missing_mid_run(rng, config) -> None:
    inits, grads = two_groups(rng, STEPS)
    params = [mg.Tensor(w.copy(), requires_grad=True, dtype="float64") for w in inits]
    opt = SGD([{"params": params[:2]}, {"params": params[2:], "lr": 0.01}], lr=0.1, **config)
    history = step_through(opt, params, grads)
    for i, (w0, lr) in enumerate(zip(inits, GROUP_LRS, strict=True)):
        expected = skipping_none(sgd_reference, w0, [g[i] for g in grads], lr=lr, **config)
        for step, want in enumerate(expected):
            np.testing.assert_allclose(history[step][i], want, rtol=FWD_RTOL, atol=FWD_ATOL)


def _one(value: float) -> mg.Tensor:
    return mg.Tensor([value], requires_grad=True, dtype="float64")


def _steps(opt, p, grads):
    return [float(h[0][0]) for h in step_through(opt, [p], [[np.array([g])] for g in grads])]


def test_first_momentum_step_uses_raw_gradient_then_dampens() -> None:
    # buf = 1; w = 0.9 | buf = 0.9 + 0.5 = 1.4; w = 0.76 | buf = 1.26 + 0.5 = 1.76; w = 0.584
    p = _one(1.0)
    got = _steps(SGD([p], lr=0.1, momentum=0.9, dampening=0.5), p, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(got, [0.9, 0.76, 0.584], rtol=FWD_RTOL)


def test_nesterov_by_hand() -> None:
    # buf = 1, d = 1 + 0.9 = 1.9, w = 0.81 | buf = 1.9, d = 1 + 1.71 = 2.71, w = 0.539
    p = _one(1.0)
    got = _steps(SGD([p], lr=0.1, momentum=0.9, nesterov=True), p, [1.0, 1.0])
    np.testing.assert_allclose(got, [0.81, 0.539], rtol=FWD_RTOL)


def test_weight_decay_by_hand() -> None:
    # zero loss gradient: d = 0.5 * w; w = 2 - 0.1 = 1.9; w = 1.9 - 0.095 = 1.805
    p = _one(2.0)
    got = _steps(SGD([p], lr=0.1, weight_decay=0.5), p, [0.0, 0.0])
    np.testing.assert_allclose(got, [1.9, 1.805], rtol=FWD_RTOL)


@pytest.mark.parametrize(
    "kwargs",
    [{"momentum": 0.0, "nesterov": True}, {"momentum": 0.9, "dampening": 0.1, "nesterov": True}],
    ids=["no_momentum", "dampening"],
)
def test_nesterov_needs_momentum_and_no_dampening(kwargs) -> None:
    with pytest.raises(ValueError, match="nesterov"):
        SGD([_one(1.0)], lr=0.1, **kwargs)


def test_nesterov_checked_per_group() -> None:
    with pytest.raises(ValueError, match="nesterov"):
        SGD([{"params": [_one(1.0)], "momentum": 0.0}], lr=0.1, momentum=0.9, nesterov=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": -0.1},
        {"lr": float("nan")},
        {"lr": "0.1"},
        {"lr": 0.1, "momentum": -0.5},
        {"lr": 0.1, "weight_decay": -1e-4},
        {"lr": 0.1, "momentum": 0.9, "dampening": 1.5},
    ],
)
def test_invalid_hyperparameters(kwargs) -> None:
    with pytest.raises(ValueError, match="invalid"):
        SGD([_one(1.0)], **kwargs)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_float32_stays_float32_in_place(rng, config) -> None:
    w0 = rng.standard_normal((4, 3))
    grads = [rng.standard_normal((4, 3)) for _ in range(STEPS)]
    p = mg.Tensor(w0, requires_grad=True)
    data = p.data
    # A NumPy float64 learning rate must not drag the arithmetic into float64 either.
    opt = SGD([p], lr=np.float64(0.1), **config)
    history = step_through(opt, [p], [[g] for g in grads])
    assert p.data is data and p.data.dtype == np.float32
    assert all(b.dtype == np.float32 for st in opt.state.values() for b in st.values())
    expected = sgd_reference(w0.astype(np.float32), grads, lr=0.1, **config)
    np.testing.assert_allclose(history[-1][0], expected[-1], rtol=F32_RTOL, atol=F32_ATOL)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_gradient_arrays_are_not_modified(rng, config) -> None:
    p = mg.Tensor(rng.standard_normal(3), requires_grad=True)
    opt = SGD([p], lr=0.1, **config)
    for _ in range(3):
        grad = rng.standard_normal(3).astype(np.float32)
        p.grad = grad
        kept = grad.copy()
        opt.step()
        assert p.grad is grad
        np.testing.assert_array_equal(grad, kept)


def test_a_training_step_calls_no_second_blas() -> None:
    """SGD and Adam update with NumPy alone. SciPy's wheels carry their own OpenBLAS, with its
    own thread pool: a step that called BLAS through SciPy (tried once, for SGD's momentum
    update) had two pools spinning against each other, and a LeNet-5 step on 2 threads took
    40-150 ms instead of 20. This step runs in a fresh process, where nothing imported SciPy."""
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import minigrad as mg
        from minigrad import nn, optim
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(36, 10))
        x = np.random.default_rng(0).standard_normal((8, 1, 8, 8)).astype(np.float32)
        y = np.arange(8) % 10
        for opt in (optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True),
                    optim.Adam(model.parameters())):
            for _ in range(2):
                opt.zero_grad()
                nn.CrossEntropyLoss()(model(x), y).backward()
                opt.step()
        print("scipy loaded:", "scipy" in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "scipy loaded: False"
