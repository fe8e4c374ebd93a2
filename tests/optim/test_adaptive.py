"""Adagrad, RMSprop and Adadelta against their update rules written out by hand in float64
(two steps, every option on), and their argument checks. The step-for-step comparison with
torch.optim is in test_against_torch.py; the state-dict and skipping tests in
test_optimizer.py (MAKERS)."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import Adadelta, Adagrad, RMSprop

P0 = np.array([1.0, -2.0])
GRADS = [np.array([0.5, 1.0]), np.array([-1.0, 2.0])]


def _run(opt_cls, **kwargs) -> np.ndarray:
    p = mg.Tensor(P0, requires_grad=True, dtype="float64")
    opt = opt_cls([p], **kwargs)
    for g in GRADS:
        p.grad = g.copy()
        opt.step()
    return p.numpy()


def test_adagrad_by_hand() -> None:
    got = _run(
        Adagrad, lr=0.1, lr_decay=0.5, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-10
    )
    d1 = GRADS[0] + 0.1 * P0  # [0.6, 0.8]
    s1 = 0.2 + d1**2  # [0.56, 0.84]
    p1 = P0 - 0.1 / (1 + 0 * 0.5) * d1 / (np.sqrt(s1) + 1e-10)
    d2 = GRADS[1] + 0.1 * p1
    s2 = s1 + d2**2
    p2 = p1 - 0.1 / (1 + 1 * 0.5) * d2 / (np.sqrt(s2) + 1e-10)
    np.testing.assert_allclose(p1, [1 - 0.06 / np.sqrt(0.56), -2 - 0.08 / np.sqrt(0.84)])
    np.testing.assert_allclose(got, p2, rtol=1e-14)


def test_rmsprop_by_hand() -> None:
    got = _run(RMSprop, lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.1, momentum=0.5, centered=True)
    p, v, m, b = P0.copy(), np.zeros(2), np.zeros(2), np.zeros(2)
    for g in GRADS:
        d = g + 0.1 * p
        v = 0.9 * v + 0.1 * d * d
        m = 0.9 * m + 0.1 * d
        b = 0.5 * b + d / (np.sqrt(v - m * m) + 1e-8)
        p = p - 0.01 * b
    # the first step by hand: d = [0.6, 0.8], v = 0.1 d^2, m = 0.1 d, v - m^2 = 0.09 d^2
    np.testing.assert_allclose(
        _run_one(RMSprop, lr=0.01, alpha=0.9, weight_decay=0.1, momentum=0.5, centered=True),
        P0 - 0.01 * np.sign([0.6, 0.8]) / 0.3,
        rtol=1e-6,
    )
    np.testing.assert_allclose(got, p, rtol=1e-14)


def test_rmsprop_plain_first_step_is_sign_times_lr_over_sqrt_one_minus_alpha() -> None:
    # v = (1 - alpha) g^2, so g / sqrt(v) = sign(g) / sqrt(1 - alpha)
    got = _run_one(RMSprop, lr=0.01, alpha=0.75, eps=0.0)
    np.testing.assert_allclose(got, P0 - 0.01 * np.sign(GRADS[0]) / 0.5, rtol=1e-14)


def test_adadelta_by_hand() -> None:
    got = _run(Adadelta, lr=0.5, rho=0.8, eps=1e-6, weight_decay=0.1)
    p, v, u = P0.copy(), np.zeros(2), np.zeros(2)
    for g in GRADS:
        d = g + 0.1 * p
        v = 0.8 * v + 0.2 * d * d
        delta = np.sqrt(u + 1e-6) / np.sqrt(v + 1e-6) * d
        u = 0.8 * u + 0.2 * delta * delta
        p = p - 0.5 * delta
    first = _run_one(Adadelta, lr=1.0, rho=0.0, eps=1.0)  # v = g^2: delta = g / sqrt(g^2 + 1)
    np.testing.assert_allclose(first, P0 - GRADS[0] / np.sqrt(GRADS[0] ** 2 + 1), rtol=1e-14)
    np.testing.assert_allclose(got, p, rtol=1e-14)


def _run_one(opt_cls, **kwargs) -> np.ndarray:
    p = mg.Tensor(P0, requires_grad=True, dtype="float64")
    p.grad = GRADS[0].copy()
    opt_cls([p], **kwargs).step()
    return p.numpy()


@pytest.mark.parametrize("opt_cls", [Adagrad, RMSprop, Adadelta])
def test_float32_parameters_stay_float32(opt_cls) -> None:
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = opt_cls([p])
    for _ in range(2):
        p.grad = np.array([0.5, -0.5], np.float32)
        opt.step()
    assert p.dtype == np.float32 and all(
        v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray)
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda ps: Adagrad(ps, lr=-1), "invalid lr"),
        (lambda ps: Adagrad(ps, lr_decay=-0.1), "invalid lr_decay"),
        (lambda ps: RMSprop(ps, alpha=1.5), "invalid alpha"),
        (lambda ps: RMSprop(ps, momentum=-1), "invalid momentum"),
        (lambda ps: RMSprop(ps, centered="yes"), "centered must be a bool"),
        (lambda ps: Adadelta(ps, rho=2), "invalid rho"),
        (lambda ps: Adadelta(ps, eps=-1), "invalid eps"),
    ],
)
def test_bad_hyperparameters_are_refused(make, message) -> None:
    with pytest.raises(ValueError, match=message):
        make([mg.tensor([1.0], requires_grad=True)])
