"""Gradient health on the cases the tutorials name: vanishing through sigmoids (and its fixes),
dying ReLUs, an exploding recurrent gradient (and clipping), plus the records, report, plots,
and the fit / command-line integration."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.optim as optim
from minigrad.data import DataLoader, TensorDataset, load_digits
from minigrad.diagnostics import Diagnostics, HealthWarning, LayerRecord, Thresholds
from minigrad.train import fit

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_digits("train")
    return x.reshape(len(x), -1)[:256], y[:256]


def deep_mlp(activation: type, he: bool = False, batchnorm: bool = False, bias: float = 0.0):
    """Ten linear layers, 64 -> 32 -> ... -> 10, with an activation between them."""
    layers: list = []
    width = 64
    for i in range(10):
        out = 10 if i == 9 else 32
        linear = nn.Linear(width, out)
        if he:
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
        if bias:
            nn.init.constant_(linear.bias, bias)
        layers.append(linear)
        if i < 9:
            layers += [nn.BatchNorm1d(out)] if batchnorm else []
            layers.append(activation())
        width = out
    return nn.Sequential(*layers)


def train(model, digits, steps: int = 6, lr: float = 0.02, **kwargs) -> Diagnostics:
    x, y = digits
    loader = DataLoader(TensorDataset(x, y), 64, shuffle=True, seed=0)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    with Diagnostics(model, **kwargs) as diag:
        done = 0
        while done < steps:
            for xb, yb in loader:
                opt.zero_grad()
                loss_fn(model(xb), yb).backward()
                opt.step()
                done += 1
                if done == steps:
                    break
    return diag


def kinds(diag: Diagnostics) -> list[str]:
    return [w.kind for w in diag.warnings]


def test_a_deep_sigmoid_mlp_vanishes_and_relu_he_or_batchnorm_fix_it(digits) -> None:
    sigmoid = train(deep_mlp(nn.Sigmoid), digits)
    ratio, earliest, last = sigmoid.flow_ratio()
    assert (earliest, last) == ("0", "18")
    assert ratio < 1e-6  # about 0.25 per sigmoid, nine times over, and small weights
    (warning,) = sigmoid.warnings
    assert (warning.kind, warning.layer, warning.threshold) == ("vanishing", "0", 1e-2)
    assert warning.message.startswith("the gradient reaching layer 0 (Linear) is ")
    assert "a sigmoid at most 1/4" in sigmoid.advice("vanishing")
    grads = [r.grad_norm for r in sigmoid.records if r.step == 1 and r.grad_norm is not None]
    assert grads == sorted(grads)  # weight gradients grow from the first layer to the last

    for fixed in (deep_mlp(nn.ReLU, he=True), deep_mlp(nn.Sigmoid, batchnorm=True)):
        diag = train(fixed, digits)
        assert kinds(diag) == [], diag.report()
        assert 0.1 < diag.flow_ratio()[0] < 10
        assert "No problem found." in diag.report()


def test_relus_with_biases_at_minus_five_are_dead(digits) -> None:
    diag = train(deep_mlp(nn.ReLU, he=True, bias=-5.0), digits, steps=4)
    dead = [w for w in diag.warnings if w.kind == "dead_relu"]
    assert [w.layer for w in dead] == [str(i) for i in range(1, 18, 2)]
    assert all(w.value == 1.0 for w in dead)
    assert dead[0].message.startswith("100% of the units of layer 1 (ReLU) output zero")
    assert diag.dead_fraction("1") == 1.0
    assert diag.flow_ratio()[0] == 0.0  # nothing gets back through
    assert kinds(diag)[0] == "vanishing"
    assert "no gradient at all reaches layer 0 (Linear)" in diag.report()
    record = next(r for r in diag.records if r.layer == "1")
    assert record.dead == 1.0 and record.act_mean == 0.0


def test_too_high_a_learning_rate_kills_relus_too(digits) -> None:
    model = nn.Sequential(
        nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)
    )
    with np.errstate(all="ignore"):
        diag = train(model, digits, steps=12, lr=30.0)
    dead = {w.layer: w.value for w in diag.warnings if w.kind == "dead_relu"}
    assert list(dead) == ["1"] and dead["1"] > 0.5


class Cell(nn.Layer):
    """A tanh recurrent cell, ``h' = tanh(x W_xh + h W_hh + b)``, unrolled by hand."""

    def __init__(self, inputs: int, hidden: int, scale: float) -> None:
        super().__init__()
        self.w_xh = nn.Parameter(mg.randn(inputs, hidden) / np.sqrt(inputs))
        self.w_hh = nn.Parameter(mg.randn(hidden, hidden) * (scale / np.sqrt(hidden)))
        self.b = nn.Parameter(np.zeros(hidden))
        self.act = nn.Tanh()

    def forward(self, x, h):
        return self.act(x @ self.w_xh + h @ self.w_hh + self.b)


class Unrolled(nn.Layer):
    def __init__(self, scale: float, inputs: int = 4, hidden: int = 32) -> None:
        super().__init__()
        self.hidden = hidden
        self.cell = Cell(inputs, hidden, scale)
        self.head = nn.Linear(hidden, 1)

    def forward(self, xs):
        h = mg.zeros(xs.shape[1], self.hidden)
        for t in range(xs.shape[0]):  # 50 steps: the cell is called 50 times
            h = self.cell(xs[t], h)
        return self.head(h)


def run_rnn(clip: float | None, steps: int = 4, scale: float = 3.0) -> tuple[Diagnostics, list]:
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    model = Unrolled(scale)
    opt = optim.SGD(model.parameters(), lr=0.2)
    losses = []
    with Diagnostics(model) as diag:
        for _ in range(steps):
            xs = rng.standard_normal((50, 8, 4)).astype(np.float32)
            target = xs[-3:, :, 0].sum(axis=0)[:, None]  # the sum of the last three inputs
            opt.zero_grad()
            loss = ((model(xs) - target) ** 2).mean()
            loss.backward()
            if clip is not None:
                optim.clip_grad_norm(model.parameters(), clip)
            opt.step()
            losses.append(loss.item())
    return diag, losses


def test_an_rnn_with_large_recurrent_weights_explodes_and_clipping_bounds_the_steps() -> None:
    clipped, clipped_losses = run_rnn(clip=1.0)
    first_flow = clipped.flows[0][1]
    assert len(first_flow) == 51  # the head, then the 50 calls of the cell, last to first
    assert first_flow[0][0] == "head" and {n for n, _ in first_flow[1:]} == {"cell"}
    assert first_flow[-1][1] / first_flow[0][1] > 1e3  # it grows going back in time
    assert kinds(clipped) == ["exploding", "saturated"]  # a third of the tanh outputs
    cell = [r for r in clipped.records if r.layer == "cell"]
    assert all(r.update_ratio < 0.05 for r in cell)  # each step moves the weights a little
    assert all(r.saturated < 0.5 for r in clipped.records if r.layer == "cell.act")

    wild, wild_losses = run_rnn(clip=None)
    cell = [r for r in wild.records if r.layer == "cell"]
    assert cell[0].update_ratio > 100  # one step moved the weights by 100x their size...
    act = [r.saturated for r in wild.records if r.layer == "cell.act"]
    assert act[0] < 0.5 and min(act[1:]) > 0.9  # ... into the flat ends of the tanh
    assert set(kinds(wild)) == {"vanishing", "saturated"}  # no gradient gets back any more
    assert wild_losses[0] == clipped_losses[0]
    assert max(wild_losses) > 10 * max(clipped_losses)


def test_records_report_and_thresholds(digits) -> None:
    diag = train(deep_mlp(nn.Sigmoid), digits, steps=5, every=2, window=2)
    assert diag.steps == 5
    assert sorted({r.step for r in diag.records}) == [1, 3, 5]
    assert all(isinstance(r, LayerRecord) for r in diag.records)
    first = next(r for r in diag.records if r.layer == "0")
    assert first.kind == "Linear" and first.grad_norm > 0 and first.weight_norm > 0
    assert 0 < first.update_ratio < 1  # measured when the next step began
    assert [r.update_ratio for r in diag.records if r.layer == "0"][-1] is not None  # at detach
    sigmoid = next(r for r in diag.records if r.layer == "1")
    assert 0.3 < sigmoid.act_mean < 0.7 and sigmoid.saturated == 0.0 and sigmoid.grad_norm is None
    report = diag.report()
    assert report.startswith(
        "Gradient health of Sequential over 5 training steps (the last 2 recorded: steps 3-5)"
    )
    assert "Thresholds: vanishing when the gradient reaching the earliest layer" in report
    assert "layer  kind" in report and "\n18     Linear" in report
    assert isinstance(diag.warnings[0], HealthWarning)
    strict = Diagnostics(deep_mlp(nn.Sigmoid), thresholds=Thresholds(vanishing=1e-30))
    assert strict.thresholds.vanishing == 1e-30 and strict.report().endswith("recorded yet.")


def small_mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(64, 16), nn.Sigmoid(), nn.Linear(16, 10))


def test_plots_and_saved_files(digits, tmp_path: Path) -> None:
    diag = train(small_mlp(), digits, steps=3)
    written = diag.save(tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == [
        "diagnostics-activations.png",
        "diagnostics-flow.png",
        "diagnostics-gradients.png",
        "diagnostics-updates.png",
        "diagnostics.json",
        "diagnostics.txt",
    ]
    for path in written:
        assert path.stat().st_size > 0
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((tmp_path / "out" / "diagnostics.json").read_text())
    assert data["thresholds"]["dead"] == 0.5
    assert len(data["records"]) == 3 * 3 and len(data["flows"]) == 3
    assert [name for name, _ in data["flows"][0]["flow"]] == ["2", "0"]


def test_detach_removes_every_hook_and_copies_are_not_recorded(digits) -> None:
    model = deep_mlp(nn.ReLU, he=True)
    diag = Diagnostics(model).attach()
    assert diag.attach() is diag and diag.attached
    twin = model.copy()  # carries the hooks (as PyTorch's deepcopy) but is not watched
    twin(digits[0][:4]).sum().backward()
    assert diag.steps == 0 and diag.records == []
    diag.detach()
    assert not diag.attached
    assert all(layer._hooks is None for layer in model.layers())
    assert not any(getattr(p, "_hooks", None) for p in model.parameters())


def test_hooks_of_forgotten_diagnostics_go_away(digits) -> None:
    model = deep_mlp(nn.ReLU)
    Diagnostics(model).attach()  # never detached, not kept
    assert all(layer._hooks is None for layer in model.layers())


def test_evaluation_passes_are_not_steps(digits) -> None:
    model = deep_mlp(nn.ReLU, he=True)
    with Diagnostics(model) as diag:
        model.eval()
        model(digits[0][:4])
        model.train()
        with mg.no_grad():
            model(digits[0][:4])
    assert diag.steps == 0


def test_fit_diagnose_writes_next_to_the_checkpoint(digits, tmp_path: Path) -> None:
    x, y = digits
    loader = DataLoader(TensorDataset(x, y), 64)
    model = small_mlp()
    checkpoint = tmp_path / "run" / "checkpoint.npz"
    checkpoint.parent.mkdir()
    opt = optim.SGD(model.parameters(), lr=0.1)
    fit(model, nn.CrossEntropyLoss(), opt, loader, 1, progress=False, checkpoint=checkpoint,
        diagnose=True)  # fmt: skip
    report = (checkpoint.parent / "diagnostics.txt").read_text()
    assert report.startswith("Gradient health of Sequential over 4 training steps")
    assert "Thresholds:" in report and (checkpoint.parent / "diagnostics-flow.png").exists()
    assert all(layer._hooks is None for layer in model.layers())  # fit detached them

    mine = Diagnostics(model)
    fit(model, nn.CrossEntropyLoss(), opt, loader, 1, progress=False, diagnose=mine)
    assert mine.steps == 4 and not mine.attached
    with pytest.raises(ValueError, match="needs checkpoint="):
        fit(model, nn.CrossEntropyLoss(), opt, loader, 1, progress=False, diagnose=True)
    with pytest.raises(ValueError, match="another model"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, 1, progress=False,
            diagnose=Diagnostics(nn.Linear(2, 2)))  # fmt: skip


@pytest.mark.slow
def test_the_command_line_diagnoses_and_writes_the_files(tmp_path: Path) -> None:
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "mpl")}
    command = ["train", "--model", "mlp", "--epochs", "1", "--diagnose", "--quiet", "--out", "out"]
    result = subprocess.run(
        [sys.executable, "-m", "minigrad", *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Gradient health of Sequential over 21 training steps" in result.stdout
    assert "Thresholds:" in result.stdout
    out = tmp_path / "out"
    for name in ("diagnostics.txt", "diagnostics.json", "diagnostics-flow.png"):
        assert (out / name).exists(), name
    assert not math.isnan(json.loads((out / "diagnostics.json").read_text())["records"][0]["step"])
