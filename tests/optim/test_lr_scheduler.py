"""StepLR and CosineAnnealingLR: learning-rate sequences and their state dict."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import FWD_RTOL

import minigrad as mg
from minigrad.optim import SGD, Adam
from minigrad.optim.lr_scheduler import CosineAnnealingLR, StepLR

EPOCHS = 13


def two_groups(lrs=(0.1, 0.03)):
    params = [mg.Tensor([1.0], requires_grad=True) for _ in lrs]
    return SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)], lr=1.0)


def sequence(scheduler, epochs=EPOCHS):
    """The learning rates of every group at epochs 0..epochs-1, checked against the optimizer."""
    out = []
    for _ in range(epochs):
        lrs = scheduler.get_last_lr()
        assert lrs == [g["lr"] for g in scheduler.optimizer.param_groups]
        out.append(lrs)
        scheduler.step()
    return np.array(out)


def step_closed_form(base, epoch, step_size, gamma):
    return base * gamma ** (epoch // step_size)


def cosine_closed_form(base, epoch, t_max, eta_min):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2


@pytest.mark.parametrize(("step_size", "gamma"), [(1, 0.5), (3, 0.1), (4, 2.0)])
def test_step_lr_sequence(step_size, gamma) -> None:
    got = sequence(StepLR(two_groups(), step_size, gamma=gamma))
    want = [[step_closed_form(b, e, step_size, gamma) for b in (0.1, 0.03)] for e in range(EPOCHS)]
    np.testing.assert_allclose(got, want, rtol=FWD_RTOL)


def test_step_lr_by_hand() -> None:
    got = sequence(StepLR(two_groups((1.0, 2.0)), step_size=2, gamma=0.5), epochs=5)
    np.testing.assert_array_equal(got[:, 0], [1.0, 1.0, 0.5, 0.5, 0.25])
    np.testing.assert_array_equal(got[:, 1], [2.0, 2.0, 1.0, 1.0, 0.5])


@pytest.mark.parametrize(("t_max", "eta_min"), [(5, 0.0), (4, 0.001), (1, 0.01)])
def test_cosine_sequence(t_max, eta_min) -> None:
    # EPOCHS runs past T_max: the curve rises again, as PyTorch's does.
    got = sequence(CosineAnnealingLR(two_groups(), T_max=t_max, eta_min=eta_min))
    want = [[cosine_closed_form(b, e, t_max, eta_min) for b in (0.1, 0.03)] for e in range(EPOCHS)]
    np.testing.assert_allclose(got, want, rtol=FWD_RTOL, atol=1e-15)
    assert got[0].tolist() == [0.1, 0.03]
    np.testing.assert_allclose(got[t_max], [eta_min, eta_min], atol=1e-15)


def test_cosine_by_hand() -> None:
    got = sequence(CosineAnnealingLR(two_groups((1.0, 2.0)), T_max=2), epochs=3)
    np.testing.assert_allclose(got[:, 0], [1.0, 0.5, 0.0], atol=1e-15)


def test_scheduler_drives_the_optimizer() -> None:
    p = mg.Tensor([0.0], requires_grad=True, dtype="float64")
    opt = SGD([p], lr=1.0)
    scheduler = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = np.ones(1)
        opt.step()
        scheduler.step()
    np.testing.assert_array_equal(p.data, [-1.75])


def test_get_last_lr_is_a_copy() -> None:
    scheduler = StepLR(two_groups(), 1)
    scheduler.get_last_lr().append(5.0)
    assert len(scheduler.get_last_lr()) == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda opt: StepLR(opt, step_size=3, gamma=0.3),
        lambda opt: CosineAnnealingLR(opt, T_max=7, eta_min=0.002),
    ],
    ids=["step", "cosine"],
)
def test_state_dict_round_trip(make) -> None:
    scheduler = make(two_groups())
    for _ in range(5):
        scheduler.step()
    sd = scheduler.state_dict()
    assert sd["last_epoch"] == 5 and sd["base_lrs"] == [0.1, 0.03]
    fresh = make(two_groups((0.5, 0.5)))
    fresh.load_state_dict(sd)
    assert fresh.get_last_lr() == scheduler.get_last_lr()
    assert [g["lr"] for g in fresh.optimizer.param_groups] == scheduler.get_last_lr()
    np.testing.assert_array_equal(sequence(fresh, 6), sequence(scheduler, 6))


def test_load_state_dict_errors() -> None:
    sd = StepLR(two_groups(), 2).state_dict()
    one_group = SGD([mg.Tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="2 learning rates, the optimizer has 1"):
        StepLR(one_group, 2).load_state_dict(sd)
    with pytest.raises(ValueError, match="expected keys"):
        CosineAnnealingLR(two_groups(), 3).load_state_dict(sd)
    with pytest.raises(ValueError, match="step_size"):
        StepLR(two_groups(), 2).load_state_dict({**sd, "step_size": 0})
    with pytest.raises(ValueError, match="last_epoch"):
        StepLR(two_groups(), 2).load_state_dict({**sd, "last_epoch": -3})


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="step_size"):
        StepLR(two_groups(), 0)
    with pytest.raises(ValueError, match="gamma"):
        StepLR(two_groups(), 1, gamma=-0.1)
    with pytest.raises(ValueError, match="T_max"):
        CosineAnnealingLR(two_groups(), T_max=0)
    with pytest.raises(ValueError, match="eta_min"):
        CosineAnnealingLR(two_groups(), T_max=3, eta_min=-1.0)
    with pytest.raises(TypeError, match="Optimizer"):
        StepLR(object(), 1)


def test_works_with_adam() -> None:
    opt = Adam([mg.Tensor([1.0], requires_grad=True)], lr=0.2)
    scheduler = CosineAnnealingLR(opt, T_max=2)
    scheduler.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)
