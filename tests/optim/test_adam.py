"""Adam and AdamW against their update equations written out by hand in float64."""

from __future__ import annotations

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
    two_groups,
)

import minigrad as mg
from minigrad.optim import Adam, AdamW

STEPS = 6


def adam_reference(
    w0, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False, amsgrad=False
):
    """Adam (Kingma & Ba) with bias-corrected moments, in float64; the parameter after each step.

    ``decoupled`` decays the weights directly (AdamW), otherwise the decay joins the gradient.
    """
    beta1, beta2 = betas
    w = w0.astype(np.float64)
    m, v, v_max, out = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w), []
    for t, grad in enumerate(grads, start=1):
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            grad = grad + weight_decay * w
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w)
    return out


def run(opt, p, grads):
    history = []
    for g in grads:
        p.grad = g.astype(p.data.dtype)
        opt.step()
        history.append(p.data.copy())
    return history


CONFIGS = {
    "adam": (Adam, {}, {}),
    "adam_betas_eps": (Adam, {"betas": (0.8, 0.99), "eps": 1e-3}, {}),
    "adam_weight_decay": (Adam, {"weight_decay": 0.1}, {}),
    "adam_amsgrad": (Adam, {"amsgrad": True, "betas": (0.9, 0.9), "weight_decay": 0.01}, {}),
    "adamw": (AdamW, {}, {"weight_decay": 1e-2, "decoupled": True}),
    "adamw_weight_decay": (AdamW, {"weight_decay": 0.3}, {"decoupled": True}),
    "adamw_amsgrad": (
        AdamW,
        {"amsgrad": True, "betas": (0.9, 0.9)},
        {"weight_decay": 1e-2, "decoupled": True},
    ),
}


def _grads(rng, shape):
    # Shrinking gradients make v fall (fast with beta2 = 0.9), so amsgrad's maximum matters.
    return [rng.standard_normal(shape) * 3.0**-t for t in range(STEPS)]


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("shape", [(3, 4), (5,), ()])
def test_matches_reference(rng, name, shape) -> None:
    cls, kwargs, extra = CONFIGS[name]
    w0 = rng.standard_normal(shape)
    grads = _grads(rng, shape)
    p = mg.Tensor(w0.copy(), requires_grad=True, dtype="float64")
    history = run(cls([p], lr=0.05, **kwargs), p, grads)
    expected = adam_reference(w0, grads, lr=0.05, **{**kwargs, **extra})
    for got, want in zip(history, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=FWD_RTOL, atol=FWD_ATOL)


@pytest.mark.parametrize("name", ["adam_amsgrad", "adamw_amsgrad"])
def test_amsgrad_changes_the_result(rng, name) -> None:
    # The gradients shrink, so v falls and its running maximum differs from it.
    cls, kwargs, _ = CONFIGS[name]
    w0, grads = rng.standard_normal(4), _grads(rng, 4)
    final = {}
    for amsgrad in (True, False):
        p = mg.Tensor(w0.copy(), requires_grad=True, dtype="float64")
        final[amsgrad] = run(cls([p], lr=0.05, **{**kwargs, "amsgrad": amsgrad}), p, grads)[-1]
    assert np.abs(final[True] - final[False]).max() > 0.01


@pytest.mark.parametrize("name", CONFIGS)
def test_two_groups_and_a_gradient_missing_mid_run(rng, name) -> None:
    cls, kwargs, extra = CONFIGS[name]
    inits, grads = two_groups(rng, STEPS)
    params = [mg.Tensor(w.copy(), requires_grad=True, dtype="float64") for w in inits]
    opt = cls([{"params": params[:2]}, {"params": params[2:], "lr": 0.01}], lr=0.1, **kwargs)
    history = step_through(opt, params, grads)
    for i, (w0, lr) in enumerate(zip(inits, GROUP_LRS, strict=True)):
        column = [g[i] for g in grads]
        expected = skipping_none(adam_reference, w0, column, lr=lr, **{**kwargs, **extra})
        for step, want in enumerate(expected):
            np.testing.assert_allclose(history[step][i], want, rtol=FWD_RTOL, atol=FWD_ATOL)


def _one(value: float) -> mg.Tensor:
    return mg.Tensor([value], requires_grad=True, dtype="float64")


def test_bias_correction_by_hand() -> None:
    # A constant gradient g has m_hat = g and v_hat = g**2 at every step, so each step moves
    # by lr * g / (|g| + eps) = 0.1 (without the correction the first would move 0.1 * 3.16).
    p = _one(1.0)
    got = [h[0] for h in run(Adam([p], lr=0.1), p, [np.array([2.0])] * 3)]
    np.testing.assert_allclose(got, [0.9, 0.8, 0.7], atol=1e-8)


def test_adam_adds_weight_decay_to_the_gradient() -> None:
    # Zero loss gradient: the gradient is 0.1 * w > 0, so the first step moves by lr = 0.1.
    p = _one(1.0)
    got = run(Adam([p], lr=0.1, weight_decay=0.1), p, [np.array([0.0])])
    np.testing.assert_allclose(got[-1], [0.9], atol=1e-7)


def test_adamw_decays_the_weights_directly() -> None:
    # Zero loss gradient: m = 0, so only the decay w *= 1 - lr * wd = 0.99 acts.
    p = _one(1.0)
    got = [h[0] for h in run(AdamW([p], lr=0.1, weight_decay=0.1), p, [np.array([0.0])] * 3)]
    np.testing.assert_allclose(got, [0.99, 0.9801, 0.970299], rtol=FWD_RTOL)


def test_adamw_default_weight_decay() -> None:
    assert AdamW([_one(1.0)]).param_groups[0]["weight_decay"] == 1e-2
    assert Adam([_one(1.0)]).param_groups[0]["weight_decay"] == 0


def test_step_count_is_per_parameter() -> None:
    # b first gets a gradient at the third step: its update is a first step (moves by lr).
    a, b = _one(0.0), _one(0.0)
    opt = Adam([a, b], lr=0.1)
    for step in range(3):
        a.grad = np.array([1.0])
        b.grad = np.array([1.0]) if step == 2 else None
        opt.step()
    assert opt.state[a]["step"] == 3 and opt.state[b]["step"] == 1
    np.testing.assert_allclose(b.data, [-0.1], atol=1e-8)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": -1e-3},
        {"betas": (1.0, 0.999)},
        {"betas": (0.9, 1.0)},
        {"betas": (-0.1, 0.999)},
        {"betas": (0.9,)},
        {"eps": 0.0},
        {"eps": -1e-8},
        {"weight_decay": -0.1},
    ],
)
@pytest.mark.parametrize("cls", [Adam, AdamW])
def test_invalid_hyperparameters(cls, kwargs) -> None:
    with pytest.raises(ValueError, match=r"invalid|betas"):
        cls([_one(1.0)], **kwargs)


@pytest.mark.parametrize("name", CONFIGS)
def test_float32_stays_float32_in_place(rng, name) -> None:
    cls, kwargs, extra = CONFIGS[name]
    w0, grads = rng.standard_normal((4, 3)), _grads(rng, (4, 3))
    p = mg.Tensor(w0, requires_grad=True)
    data = p.data
    opt = cls([p], lr=np.float64(0.05), **kwargs)
    history = run(opt, p, grads)
    assert p.data is data and p.data.dtype == np.float32
    buffers = [b for b in opt.state[p].values() if isinstance(b, np.ndarray)]
    assert len(buffers) >= 2 and all(b.dtype == np.float32 for b in buffers)
    expected = adam_reference(w0.astype(np.float32), grads, lr=0.05, **{**kwargs, **extra})
    np.testing.assert_allclose(history[-1], expected[-1], rtol=F32_RTOL, atol=F32_ATOL)


@pytest.mark.parametrize("name", CONFIGS)
def test_gradient_arrays_are_not_modified(rng, name) -> None:
    cls, kwargs, _ = CONFIGS[name]
    p = mg.Tensor(rng.standard_normal(3), requires_grad=True)
    opt = cls([p], lr=0.1, **kwargs)
    for _ in range(3):
        grad = rng.standard_normal(3).astype(np.float32)
        p.grad = grad
        kept = grad.copy()
        opt.step()
        assert p.grad is grad
        np.testing.assert_array_equal(grad, kept)
