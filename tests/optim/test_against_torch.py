"""Step for step against torch.optim in float64 (skipped when PyTorch is not installed).

A second opinion only: every case here also runs everywhere against a reference written out
by hand (test_sgd, test_adam, test_clip, test_lr_scheduler).
"""

from __future__ import annotations

import numpy as np
import pytest
from support import FWD_ATOL, FWD_RTOL, GROUP_SHAPES, two_groups

import minigrad as mg
from minigrad import optim

torch = pytest.importorskip("torch")

STEPS = 5

CONFIGS = {
    "sgd": ("SGD", {"lr": 0.1}),
    "sgd_momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "sgd_dampening": ("SGD", {"lr": 0.1, "momentum": 0.8, "dampening": 0.3}),
    "sgd_nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "sgd_weight_decay": ("SGD", {"lr": 0.1, "weight_decay": 0.05}),
    "sgd_all": ("SGD", {"lr": 0.05, "momentum": 0.7, "nesterov": True, "weight_decay": 0.1}),
    "adam": ("Adam", {"lr": 0.05}),
    "adam_options": ("Adam", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-4}),
    "adam_weight_decay": ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    "adam_amsgrad": ("Adam", {"lr": 0.05, "betas": (0.9, 0.9), "amsgrad": True}),
    "adamw": ("AdamW", {"lr": 0.05}),
    "adamw_weight_decay": ("AdamW", {"lr": 0.05, "weight_decay": 0.3}),
    "adamw_amsgrad": ("AdamW", {"lr": 0.05, "betas": (0.9, 0.9), "amsgrad": True}),
    "adagrad": ("Adagrad", {"lr": 0.1}),
    "adagrad_all": (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.3, "weight_decay": 0.1, "initial_accumulator_value": 0.2},
    ),
    "rmsprop": ("RMSprop", {"lr": 0.01}),
    "rmsprop_momentum": ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.8}),
    "rmsprop_centered": ("RMSprop", {"lr": 0.01, "centered": True, "weight_decay": 0.1}),
    "rmsprop_all": ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "eps": 1e-3}),
    "adadelta": ("Adadelta", {}),
    "adadelta_all": ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1}),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_optimizer_matches_torch(rng, name) -> None:
    cls, kwargs = CONFIGS[name]
    inits, grads = two_groups(rng, STEPS)
    ours = [mg.Tensor(w.copy(), requires_grad=True, dtype="float64") for w in inits]
    theirs = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in inits]
    opt = getattr(optim, cls)([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.01}], **kwargs)
    ref = getattr(torch.optim, cls)(
        [{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.01}], **kwargs
    )
    for step_grads in grads:
        for p, t, g in zip(ours, theirs, step_grads, strict=True):
            p.grad = g
            t.grad = None if g is None else torch.tensor(g, dtype=torch.float64)
        opt.step()
        ref.step()
        for p, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=FWD_RTOL, atol=FWD_ATOL)


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_torch(rng, max_norm, norm_type) -> None:
    grads = [rng.standard_normal(shape) for shape in GROUP_SHAPES]
    ours = [mg.Tensor(np.zeros(g.shape), requires_grad=True, dtype="float64") for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(ours, theirs, grads, strict=True):
        p.grad = g.copy()
        t.grad = torch.tensor(g)
    total = optim.clip_grad_norm(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert total == pytest.approx(expected.item(), rel=FWD_RTOL)
    for p, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=FWD_RTOL, atol=FWD_ATOL)


SCHEDULERS = {
    "step": ("StepLR", {"step_size": 3, "gamma": 0.3}),
    "step_every_epoch": ("StepLR", {"step_size": 1, "gamma": 0.9}),
    "cosine": ("CosineAnnealingLR", {"T_max": 6}),
    "cosine_eta_min": ("CosineAnnealingLR", {"T_max": 4, "eta_min": 0.001}),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_matches_torch(name) -> None:
    cls, kwargs = SCHEDULERS[name]
    p = mg.Tensor([1.0], requires_grad=True, dtype="float64")
    t = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([{"params": [p]}], lr=0.1)
    ref = torch.optim.SGD([{"params": [t]}], lr=0.1)
    scheduler = getattr(optim.lr_scheduler, cls)(opt, **kwargs)
    ref_scheduler = getattr(torch.optim.lr_scheduler, cls)(ref, **kwargs)
    for _ in range(15):
        np.testing.assert_allclose(
            scheduler.get_last_lr(), ref_scheduler.get_last_lr(), rtol=FWD_RTOL, atol=1e-15
        )
        opt.step()
        ref.step()
        scheduler.step()
        ref_scheduler.step()
