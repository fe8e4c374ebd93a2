"""OneCycleLR and ReduceLROnPlateau: values written out by hand, PyTorch's values step for step
(skipped without PyTorch), argument checks, and state dicts that round-trip through
``minigrad.save``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import SGD, Adam
from minigrad.optim.lr_scheduler import OneCycleLR, ReduceLROnPlateau


def _sgd(lr: float = 1.0, momentum: float = 0.9, groups: int = 1) -> SGD:
    params = [{"params": [mg.ones(1, requires_grad=True)]} for _ in range(groups)]
    return SGD(params, lr=lr, momentum=momentum)


def _trajectory(scheduler, optimizer, steps: int, key: str = "lr") -> list[list[float]]:
    def read():
        return [g["betas"][0] if key == "beta1" else float(g[key]) for g in optimizer.param_groups]

    values = [read()]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        values.append(read())
    return values


# ---------------------------------------------------------------- OneCycleLR
def test_one_cycle_linear_by_hand() -> None:
    opt = _sgd()
    s = OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.5, anneal_strategy="linear")
    lrs = [row[0] for row in _trajectory(s, opt, 9)]
    # warm-up over steps 0..4 from 1/25 to 1, then down over 4..9 to 1/25/1e4
    warm = [0.04 + 0.96 * k / 4 for k in range(5)]
    down = [1 + (4e-6 - 1) * (k - 4) / 5 for k in range(5, 10)]
    np.testing.assert_allclose(lrs, warm + down, rtol=1e-12)
    momenta = [row[0] for row in _trajectory(*_fresh_linear(), 9, key="momentum")]
    np.testing.assert_allclose(momenta[:5], [0.95 - 0.1 * k / 4 for k in range(5)], rtol=1e-12)
    np.testing.assert_allclose(momenta[-1], 0.95, rtol=1e-12)
    with pytest.raises(ValueError, match="more than total_steps"):
        opt.step()
        s.step()
        s.step()


def _fresh_linear():
    opt = _sgd()
    return OneCycleLR(opt, 1.0, total_steps=10, pct_start=0.5, anneal_strategy="linear"), opt


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_lr": 0.5, "total_steps": 12},
        {"max_lr": [0.5, 0.1], "epochs": 3, "steps_per_epoch": 4, "pct_start": 0.25},
        {"max_lr": 0.5, "total_steps": 20, "three_phase": True, "div_factor": 10.0},
        {"max_lr": 0.5, "total_steps": 15, "anneal_strategy": "linear", "final_div_factor": 50.0},
        {"max_lr": 0.5, "total_steps": 8, "base_momentum": 0.7, "max_momentum": [0.9, 0.99]},
    ],
)
@pytest.mark.parametrize("adam", [False, True])
def test_one_cycle_matches_torch(kwargs, adam) -> None:
    torch = pytest.importorskip("torch")
    total = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
    ours_opt = (
        Adam([{"params": [mg.ones(1, requires_grad=True)]} for _ in range(2)], lr=1.0)
        if adam
        else _sgd(groups=2)
    )
    params = [{"params": [torch.nn.Parameter(torch.ones(1))]} for _ in range(2)]
    ref_opt = (
        torch.optim.Adam(params, lr=1.0) if adam else torch.optim.SGD(params, lr=1.0, momentum=0.9)
    )
    ours = OneCycleLR(ours_opt, **kwargs)
    ref = torch.optim.lr_scheduler.OneCycleLR(ref_opt, **kwargs)
    key = "beta1" if adam else "momentum"
    for _ in range(total - 1):
        for got, want in zip(ours_opt.param_groups, ref_opt.param_groups, strict=True):
            assert math.isclose(got["lr"], want["lr"], rel_tol=1e-12, abs_tol=1e-15)
            got_m = got["betas"][0] if adam else got["momentum"]
            want_m = want["betas"][0] if adam else want["momentum"]
            assert math.isclose(got_m, want_m, rel_tol=1e-12), key
        ours_opt.step()
        ours.step()
        ref_opt.step()
        ref.step()


def test_one_cycle_state_dict_round_trip(tmp_path) -> None:
    opt = _sgd(groups=2)
    s = OneCycleLR(opt, max_lr=[0.5, 0.2], total_steps=10, three_phase=True)
    for _ in range(4):
        s.step()
    mg.save({"scheduler": s.state_dict()}, tmp_path / "s.npz")
    opt2 = _sgd(groups=2)
    s2 = OneCycleLR(opt2, max_lr=[0.1, 0.1], total_steps=50)
    s2.load_state_dict(mg.load(tmp_path / "s.npz")["scheduler"])
    assert s2.last_epoch == 4 and s2.get_last_lr() == s.get_last_lr()
    assert [g["momentum"] for g in opt2.param_groups] == [g["momentum"] for g in opt.param_groups]
    s.step()
    s2.step()
    assert s2.get_last_lr() == s.get_last_lr()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_lr": 1.0}, "total_steps, or both epochs and steps_per_epoch"),
        ({"max_lr": 1.0, "total_steps": 1}, "total_steps must be an int >= 2"),
        ({"max_lr": 1.0, "total_steps": 10, "pct_start": 1.0}, "pct_start"),
        ({"max_lr": 1.0, "total_steps": 10, "anneal_strategy": "exp"}, "anneal_strategy"),
        ({"max_lr": [1.0, 2.0], "total_steps": 10}, "2 values for 1 groups"),
        ({"max_lr": -1.0, "total_steps": 10}, "max_lr must be numbers >= 0"),
        ({"max_lr": 1.0, "epochs": 0, "steps_per_epoch": 3}, "epochs must be a positive int"),
    ],
)
def test_one_cycle_bad_arguments(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        OneCycleLR(_sgd(), **kwargs)


def test_one_cycle_needs_something_to_cycle() -> None:
    from minigrad.optim import Adagrad

    opt = Adagrad([mg.ones(1, requires_grad=True)])
    with pytest.raises(ValueError, match="cycle_momentum=False"):
        OneCycleLR(opt, max_lr=1.0, total_steps=5)
    OneCycleLR(opt, max_lr=1.0, total_steps=5, cycle_momentum=False)


# ---------------------------------------------------------------- ReduceLROnPlateau
def test_plateau_by_hand() -> None:
    opt = _sgd(lr=1.0)
    s = ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.2)
    lrs = []
    for _ in range(12):
        s.step(1.0)  # never improves after the first epoch
        lrs.append(opt.param_groups[0]["lr"])
    # epoch 1 sets best; bad epochs 2, 3: 2 > patience, halve at epoch 3; epoch 4 is the
    # cooldown (counts nothing); bad epochs 5, 6: halve at 6; cooldown 7; 8, 9: the floor
    # min_lr=0.2 stops the halving at 0.2; at 12 the change 0.2 -> 0.2 is none
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2]


def test_plateau_max_mode_and_threshold() -> None:
    opt = _sgd(lr=1.0)
    s = ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=0, threshold=0.1)
    s.step(0.5)  # best 0.5
    s.step(0.54)  # not > 0.5 * 1.1: bad, patience 0 -> reduce
    assert math.isclose(opt.param_groups[0]["lr"], 0.1)
    s.step(0.6)  # > 0.55: better
    assert math.isclose(opt.param_groups[0]["lr"], 0.1) and s.best == 0.6


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"mode": "max", "patience": 2, "factor": 0.5},
        {"threshold_mode": "abs", "threshold": 0.05, "patience": 1, "cooldown": 2},
        {"min_lr": [0.01, 0.3], "patience": 0, "factor": 0.3},
    ],
)
def test_plateau_matches_torch(rng, kwargs) -> None:
    torch = pytest.importorskip("torch")
    ours_opt = _sgd(groups=2)
    ref_opt = torch.optim.SGD(
        [{"params": [torch.nn.Parameter(torch.ones(1))]} for _ in range(2)], lr=1.0
    )
    ours = ReduceLROnPlateau(ours_opt, **kwargs)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(ref_opt, **kwargs)
    metrics = np.cumsum(rng.normal(0, 1, 40)) * 0.1 + 5
    for m in metrics:
        ours.step(float(m))
        ref.step(float(m))
        assert ours.get_last_lr() == pytest.approx(ref.get_last_lr(), rel=1e-12)
        assert ours.num_bad_epochs == ref.num_bad_epochs


def test_plateau_state_dict_round_trip(tmp_path) -> None:
    opt = _sgd(lr=1.0)
    s = ReduceLROnPlateau(opt, patience=1, factor=0.5)
    mg.save({"s": s.state_dict()}, tmp_path / "fresh.npz")  # best is inf: stored as metadata
    assert mg.load(tmp_path / "fresh.npz")["s"]["best"] == math.inf
    for loss in [3.0, 2.0, 2.5, 2.5]:
        s.step(loss)
    mg.save({"s": s.state_dict()}, tmp_path / "s.npz")
    s2 = ReduceLROnPlateau(_sgd(lr=1.0))
    s2.load_state_dict(mg.load(tmp_path / "s.npz")["s"])
    assert s2.state_dict() == s.state_dict()
    with pytest.raises(ValueError, match="expected keys"):
        s2.load_state_dict({"best": 1.0})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "median"}, "mode must be 'min' or 'max'"),
        ({"factor": 1.0}, r"factor must be in \[0, 1\)"),
        ({"patience": -1}, "patience must be an int >= 0"),
        ({"threshold_mode": "pct"}, "threshold_mode"),
    ],
)
def test_plateau_bad_arguments(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        ReduceLROnPlateau(_sgd(), **kwargs)


def test_plateau_refuses_a_nan_metric() -> None:
    s = ReduceLROnPlateau(_sgd())
    with pytest.raises(ValueError, match="the metric is nan"):
        s.step(float("nan"))
    s.step(mg.tensor(1.0))  # a one-element tensor is read with item()
    assert s.best == 1.0
