"""The Optimizer base: parameters and groups, zero_grad, skipping, the state dict."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minigrad as mg
from minigrad.optim import SGD, Adadelta, Adagrad, Adam, AdamW, Optimizer, RMSprop


def param(rng, shape=(3,), dtype="float32") -> mg.Tensor:
    return mg.Tensor(rng.standard_normal(shape), requires_grad=True, dtype=dtype)


MAKERS = {
    "sgd": lambda ps: SGD(ps, lr=0.1),
    "sgd_momentum": lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01),
    "sgd_nesterov": lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda ps: Adam(ps, lr=0.01, weight_decay=0.01),
    "adam_amsgrad": lambda ps: Adam(ps, lr=0.01, amsgrad=True),
    "adamw": lambda ps: AdamW(ps, lr=0.01),
    "adagrad": lambda ps: Adagrad(ps, lr=0.1, initial_accumulator_value=0.1),
    "rmsprop": lambda ps: RMSprop(ps, lr=0.01),
    "rmsprop_all": lambda ps: RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    "adadelta": lambda ps: Adadelta(ps, eps=0.1, weight_decay=0.01),
}


def _subclasses(cls: type) -> set[type]:
    direct = set(cls.__subclasses__())
    return direct.union(*(_subclasses(c) for c in direct))


def test_every_optimizer_runs_the_generic_tests(rng) -> None:
    """A new optimizer gets the state-dict and skipping tests below by having a MAKERS entry;
    this fails until it has one."""
    shipped = {c for c in _subclasses(Optimizer) if c.__module__.startswith("minigrad.optim.")}
    covered = {type(make([param(rng)])) for make in MAKERS.values()}
    assert shipped <= covered, sorted(c.__name__ for c in shipped - covered)


@pytest.mark.parametrize("name", MAKERS)
def test_init_state_declares_what_a_step_creates(rng, name) -> None:
    params = _model(rng)
    opt = MAKERS[name](params)
    _train(opt, params, _grads(rng, params, 2))  # every parameter has been updated
    for p in params:
        template = opt.init_state(p, opt.param_groups[0])
        assert set(opt.state.get(p, {})) == set(template)
        for key, like in template.items():
            got = opt.state[p][key]
            if isinstance(like, np.ndarray):
                assert got.shape == like.shape == p.shape and got.dtype == like.dtype == p.dtype
            else:
                assert type(got) is type(like) is int


# ---------------------------------------------------------------- parameters and groups
def test_generator_is_materialized(rng) -> None:
    ps = [param(rng), param(rng)]
    opt = SGD((p for p in ps), lr=0.1)
    assert all(a is b for a, b in zip(opt.param_groups[0]["params"], ps, strict=True))
    for p in ps:
        p.grad = np.ones(3, np.float32)
    before = [p.data.copy() for p in ps]
    opt.step()
    opt.step()
    for p, b in zip(ps, before, strict=True):
        np.testing.assert_allclose(p.data, b - 0.2, rtol=1e-6)


def test_empty_parameter_list() -> None:
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        Adam(iter(()))


def test_single_tensor_is_refused(rng) -> None:
    with pytest.raises(TypeError, match="list"):
        SGD(param(rng), lr=0.1)


def test_bad_parameters(rng) -> None:
    with pytest.raises(ValueError, match="parameter 1 does not require grad"):
        SGD([param(rng), mg.Tensor([1.0])], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 has dtype int64"):
        SGD([mg.Tensor(np.arange(3))], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 is a ndarray"):
        SGD([np.ones(3)], lr=0.1)
    with pytest.raises(ValueError, match="not a leaf"):
        SGD([param(rng) * 2], lr=0.1)


def test_same_tensor_twice(rng) -> None:
    p, q = param(rng), param(rng)
    with pytest.raises(ValueError, match="parameter 2 appears more than once"):
        SGD([p, q, p], lr=0.1)
    with pytest.raises(ValueError, match="parameter 1 appears more than once"):
        SGD([{"params": [p]}, {"params": [p], "lr": 0.01}], lr=0.1)


def test_group_errors(rng) -> None:
    with pytest.raises(ValueError, match="unknown keys \\['learning_rate'\\]"):
        SGD([{"params": [param(rng)], "learning_rate": 0.1}], lr=0.1)
    with pytest.raises(ValueError, match="group 0 has no parameters"):
        SGD([{"params": []}], lr=0.1)
    with pytest.raises(TypeError, match="mixes"):
        SGD([param(rng), {"params": [param(rng)]}], lr=0.1)
    with pytest.raises(ValueError, match="invalid lr"):
        SGD([{"params": [param(rng)], "lr": -1.0}], lr=0.1)


def test_groups_fall_back_to_defaults_and_use_their_own_lr(rng) -> None:
    a, b = param(rng, dtype="float64"), param(rng, dtype="float64")
    opt = SGD([{"params": [a]}, {"params": b, "lr": 0.01}], lr=0.1, momentum=0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt.param_groups] == [0.5, 0.5]
    a0, b0 = a.data.copy(), b.data.copy()
    a.grad, b.grad = np.ones(3), np.ones(3)
    opt.step()
    np.testing.assert_allclose(a.data, a0 - 0.1)
    np.testing.assert_allclose(b.data, b0 - 0.01)


def test_a_single_group_dict(rng) -> None:
    p = param(rng)
    opt = SGD({"params": p, "momentum": 0.5}, lr=0.1)
    assert opt.param_groups[0]["params"][0] is p and opt.param_groups[0]["momentum"] == 0.5


def test_add_param_group(rng) -> None:
    a, b = param(rng), param(rng)
    opt = Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "betas": [0.5, 0.6]})
    assert opt.param_groups[1]["betas"] == (0.5, 0.6) and opt.param_groups[1]["lr"] == 0.1
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [a]})


def test_base_step_is_abstract(rng) -> None:
    with pytest.raises(NotImplementedError):
        Optimizer([param(rng)], {"lr": 0.1}).step()


# ---------------------------------------------------------------- zero_grad and skipping
def test_zero_grad_sets_none(rng) -> None:
    p, q = param(rng), param(rng)
    p.grad = np.ones(3, np.float32)
    SGD([p, q], lr=0.1).zero_grad()
    assert p.grad is None and q.grad is None


def test_zero_grad_in_place(rng) -> None:
    p, q = param(rng), param(rng)
    grad = np.ones(3, np.float32)
    p.grad = grad
    SGD([p, q], lr=0.1).zero_grad(set_to_none=False)
    assert p.grad is grad and q.grad is None
    np.testing.assert_array_equal(grad, 0.0)


def test_zero_grad_after_backward(rng) -> None:
    p = param(rng)
    opt = SGD([p], lr=0.1)
    (p * p).sum().backward()
    assert p.grad is not None
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("name", MAKERS)
def test_parameters_without_grad_are_skipped(rng, name) -> None:
    p, q = param(rng), param(rng)
    opt = MAKERS[name]([p, q])
    q0 = q.data.copy()
    for _ in range(2):
        p0 = p.data.copy()
        p.grad = rng.standard_normal(3).astype(np.float32)
        opt.step()
        assert not np.array_equal(p.data, p0)
    np.testing.assert_array_equal(q.data, q0)
    assert q not in opt.state


# Adagrad's steps shrink as 1 / sqrt(step): it needs a larger rate to get as far in 100 steps.
TRAINING_LR = {"adagrad": 0.5}


def test_training_reduces_a_loss(rng) -> None:
    """End to end: the optimizers drive a least-squares loss down through backward()."""
    x = mg.Tensor(rng.standard_normal((32, 4)))
    y = mg.Tensor(x.data @ np.array([1.0, -2.0, 0.5, 3.0], np.float32))
    for name, make in MAKERS.items():
        w = mg.Tensor(np.zeros(4), requires_grad=True)
        opt = make([w])
        opt.param_groups[0]["lr"] = TRAINING_LR.get(name, 0.1)
        losses = []
        for _ in range(100):
            opt.zero_grad()
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < 0.1 * losses[0], name


# ---------------------------------------------------------------- state dict
def _walk(tree, path=""):
    if isinstance(tree, dict):
        for k, v in tree.items():
            assert isinstance(k, str) and "/" not in k, (path, k)
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(tree, list):
        # Lists go into the JSON metadata whole: no arrays anywhere inside.
        for i, v in enumerate(tree):
            for inner_path, leaf in _walk(v, f"{path}[{i}]"):
                assert not isinstance(leaf, np.ndarray), inner_path
                yield inner_path, leaf
    else:
        yield path, tree


def _train(opt, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = g
        opt.step()


def _grads(rng, params, steps):
    # The second parameter sits out the first step, so its state starts later.
    return [
        [
            None if (s == 0 and i == 1) else rng.standard_normal(p.shape).astype(p.dtype)
            for i, p in enumerate(params)
        ]
        for s in range(steps)
    ]


def _model(rng):
    return [param(rng, (3, 2)), param(rng, (4,)), param(rng, ())]


@pytest.mark.parametrize("name", MAKERS)
def test_state_dict_leaves_are_storable(rng, name) -> None:
    params = _model(rng)
    opt = MAKERS[name](params)
    _train(opt, params, _grads(rng, params, 2))
    sd = opt.state_dict()
    leaves = dict(_walk(sd))
    allowed = (np.ndarray, int, float, str, bool, type(None))
    assert all(isinstance(v, allowed) for v in leaves.values()), leaves
    json.dumps({k: v for k, v in leaves.items() if not isinstance(v, np.ndarray)})
    assert sd["param_groups"][0]["params"] == [0, 1, 2]
    assert set(sd["state"]) == (set() if name == "sgd" else {"0", "1", "2"})


@pytest.mark.parametrize("name", MAKERS)
def test_state_dict_round_trip_is_bit_exact(rng, name) -> None:
    make = MAKERS[name]
    params = _model(rng)
    opt = make(params)
    _train(opt, params, _grads(rng, params, 3))
    sd = opt.state_dict()
    # A fresh optimizer, built with other hyperparameters, over fresh copies of the parameters.
    copies = [mg.Tensor(p.data.copy(), requires_grad=True) for p in params]
    fresh = make(copies)
    fresh.param_groups[0]["lr"] = 123.0
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    more = _grads(rng, params, 3)
    _train(opt, params, more)
    _train(fresh, copies, more)
    for p, c in zip(params, copies, strict=True):
        np.testing.assert_array_equal(p.data, c.data)
        assert c.data.dtype == p.data.dtype


def test_state_dict_does_not_alias(rng) -> None:
    params = _model(rng)
    opt = SGD(params, lr=0.1, momentum=0.9)
    _train(opt, params, _grads(rng, params, 2))
    sd = opt.state_dict()
    kept = sd["state"]["0"]["momentum_buffer"].copy()
    _train(opt, params, _grads(rng, params, 1))
    np.testing.assert_array_equal(sd["state"]["0"]["momentum_buffer"], kept)
    fresh = SGD([mg.Tensor(p.data.copy(), requires_grad=True) for p in params], lr=0.1)
    fresh.load_state_dict(sd)
    sd["state"]["0"]["momentum_buffer"][...] = 7.0
    assert not np.any(next(iter(fresh.state.values()))["momentum_buffer"] == 7.0)


def test_saved_state_survives_minigrad_save(rng, tmp_path) -> None:
    if not hasattr(mg, "save"):
        pytest.skip("minigrad.save is not available yet")
    params = _model(rng)
    opt = Adam(params, lr=0.01, amsgrad=True)
    _train(opt, params, _grads(rng, params, 2))
    mg.save(opt.state_dict(), tmp_path / "opt.npz")
    copies = [mg.Tensor(p.data.copy(), requires_grad=True) for p in params]
    fresh = Adam(copies)
    fresh.load_state_dict(mg.load(tmp_path / "opt.npz"))
    more = _grads(rng, params, 2)
    _train(opt, params, more)
    _train(fresh, copies, more)
    for p, c in zip(params, copies, strict=True):
        np.testing.assert_array_equal(p.data, c.data)


def _trained_sgd(rng, params):
    opt = SGD(params, lr=0.1, momentum=0.9)
    _train(opt, params, _grads(rng, params, 2))
    return opt


def test_load_state_dict_shape_mismatch(rng) -> None:
    sd = _trained_sgd(rng, _model(rng)).state_dict()
    other = [param(rng, (3, 2)), param(rng, (5,)), param(rng, ())]
    opt = SGD(other, lr=0.5, momentum=0.9)
    with pytest.raises(ValueError, match=r"parameter 1: momentum_buffer has shape \(4,\).*\(5,\)"):
        opt.load_state_dict(sd)
    # Nothing was changed by the failed load.
    assert opt.param_groups[0]["lr"] == 0.5 and not opt.state


def test_load_state_dict_dtype_mismatch(rng) -> None:
    sd = _trained_sgd(rng, _model(rng)).state_dict()
    other = [param(rng, (3, 2), "float64"), param(rng, (4,)), param(rng, ())]
    with pytest.raises(ValueError, match=r"parameter 0: momentum_buffer .* dtype float32.*float64"):
        SGD(other, lr=0.1, momentum=0.9).load_state_dict(sd)


def test_load_state_dict_count_mismatches(rng) -> None:
    params = _model(rng)
    sd = _trained_sgd(rng, params).state_dict()
    with pytest.raises(ValueError, match="3 parameters in the state, 2 here"):
        SGD(params[:2], lr=0.1, momentum=0.9).load_state_dict(sd)
    two_groups = SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="1 parameter groups, this optimizer has 2"):
        two_groups.load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        SGD(params, lr=0.1).load_state_dict({"state": {}})


def test_load_state_dict_of_another_optimizer(rng) -> None:
    params = _model(rng)
    sd = _trained_sgd(rng, params).state_dict()
    with pytest.raises(ValueError, match="hyperparameters"):
        Adam(params).load_state_dict(sd)


def test_load_state_dict_missing_buffer(rng) -> None:
    params = _model(rng)
    opt = Adam(params, amsgrad=True)
    _train(opt, params, _grads(rng, params, 1))
    sd = opt.state_dict()
    del sd["state"]["0"]["max_exp_avg_sq"]
    with pytest.raises(ValueError, match="parameter 0 has state"):
        Adam(params, amsgrad=True).load_state_dict(sd)
    sd = opt.state_dict()
    sd["state"]["0"]["step"] = -1
    with pytest.raises(ValueError, match="step must be a count"):
        Adam(params, amsgrad=True).load_state_dict(sd)


def test_repr(rng) -> None:
    assert repr(SGD([param(rng)], lr=0.1)).startswith("SGD(1 parameters in 1 groups; lr=0.1")
