"""fit, evaluate and History: learning, metrics, the non-finite guard, checkpoints and resume."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
import minigrad.nn as nn
import minigrad.optim as optim
from minigrad.data import DataLoader, TensorDataset, load_digits
from minigrad.train import History, NonFiniteLossError, evaluate, fit


def _digits(n: int = 256):
    x, y = load_digits("train")
    return x[:n], y[:n]


def _setup(seed: int = 0, dropout: bool = True, loader_seed: bool = True):
    """Fresh model, optimizer, scheduler and shuffling loader, all seeded (the loader by its
    own seed, or with ``loader_seed=False`` from minigrad's global generator)."""
    mg.manual_seed(seed)
    layers = [
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64, 10),
    ]
    if dropout:
        layers.insert(5, nn.Dropout(0.2))
    model = nn.Sequential(*layers)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x, y = _digits()
    loader = DataLoader(TensorDataset(x, y), 32, shuffle=True, seed=seed if loader_seed else None)
    return model, opt, sched, loader


def test_fit_learns_and_records_history() -> None:
    model, opt, sched, loader = _setup()
    x, y = load_digits("test")
    val = DataLoader(TensorDataset(x, y), 128)
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        loader,
        epochs=4,
        val_loader=val,
        scheduler=sched,
        progress=False,
    )
    assert len(history) == 4 and history["epoch"] == [1, 2, 3, 4]
    assert history["lr"] == [0.1, 0.05, 0.025, 0.0125]
    assert history["loss"][-1] < history["loss"][0] / 2
    assert history["val_accuracy"][-1] > 0.7
    assert all(s > 0 for s in history["seconds"])
    assert model.training  # fit leaves the model in training mode


def test_evaluate_restores_mode_and_reports_loss() -> None:
    model, *_, loader = _setup()
    model.train()
    metrics = evaluate(model, loader, nn.CrossEntropyLoss())
    assert model.training and 0 <= metrics["accuracy"] <= 1 and metrics["loss"] > 0
    assert set(evaluate(model.eval(), loader)) == {"accuracy"}
    assert not model.training


def test_evaluate_weights_each_batch_loss_by_its_size() -> None:
    # Ten examples in batches of 4, 4 and 2 whose losses are 1, 2 and 3 (the squared error of
    # a zero prediction): the mean over examples is (4 * 1 + 4 * 2 + 2 * 3) / 10 = 1.8, where
    # the mean of the three batch means would be 2.
    targets = np.repeat(np.sqrt([1.0, 2.0, 3.0]), [4, 4, 2])[:, None]
    loader = DataLoader(TensorDataset(np.zeros((10, 1)), np.zeros(10, int)), 4)
    batches = iter(targets[i : i + 4] for i in range(0, 10, 4))

    def loss_fn(out, _):
        return F.mse_loss(out, mg.tensor(next(batches)))

    metrics = evaluate(lambda x: x, loader, loss_fn)
    assert metrics["loss"] == pytest.approx(1.8, rel=1e-6)  # float32


def test_progress_prints_one_line_per_epoch_off_terminal(capsys) -> None:
    model, opt, _, loader = _setup()
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2  loss ")


def test_callback_can_stop_training_early() -> None:
    model, opt, _, loader = _setup()
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        loader,
        epochs=10,
        progress=False,
        callbacks=[lambda h: len(h) == 2],
    )
    assert len(history) == 2


def test_non_finite_loss_stops_before_the_update(rng) -> None:
    model, opt, _, loader = _setup(dropout=False)
    fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, progress=False)  # momentum state
    params = {n: p.data.copy() for n, p in model.named_parameters()}
    buffers = {n: b.data.copy() for n, b in model.named_buffers()}
    opt_state = opt.state_dict()
    x, y = _digits(64)
    x = x.copy()
    x[40, 0, 3, 3] = np.nan  # the second batch of the epoch is poisoned
    bad = DataLoader(TensorDataset(x, y), 32)
    with pytest.raises(NonFiniteLossError, match="epoch 1, step 2: the loss is nan") as info:
        fit(model, nn.CrossEntropyLoss(), opt, bad, epochs=1, progress=False)
    assert info.value.step == 2 and info.value.epoch == 1
    # step 1 was fine and updated; undo nothing there, but step 2 must have changed nothing
    model2, opt2, _, _ = _setup(dropout=False)
    model2.load_state_dict({**params, **buffers})
    opt2.load_state_dict(opt_state)
    fit(
        model2,
        nn.CrossEntropyLoss(),
        opt2,
        DataLoader(TensorDataset(x[:32], y[:32]), 32),
        epochs=1,
        progress=False,
    )
    for name, value in model2.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[name], value, err_msg=name)
    for key, value in opt2.state_dict()["state"].items():
        for k, v in value.items():
            np.testing.assert_array_equal(opt.state_dict()["state"][key][k], v)


def test_non_finite_gradient_also_stops() -> None:
    lin = nn.Linear(2, 1)
    opt = optim.SGD(lin.parameters(), lr=0.1)
    before = lin.weight.data.copy()

    def loss_fn(out, y):
        return (out * 0).sqrt().sum()  # finite value (0), infinite gradient (1 / 2 sqrt(0))

    data = DataLoader(TensorDataset(np.ones((2, 2), np.float32), np.zeros(2, np.int64)), 2)
    with (
        np.errstate(divide="ignore", invalid="ignore"),
        pytest.raises(NonFiniteLossError, match="gradient of parameter weight is not finite"),
    ):
        fit(lin, loss_fn, opt, data, epochs=1, progress=False)
    np.testing.assert_array_equal(lin.weight.data, before)


@pytest.mark.parametrize("loader_seed", [True, False], ids=["loader_seed", "seed_none"])
def test_resume_is_bit_exact(tmp_path, loader_seed) -> None:
    loss_fn = nn.CrossEntropyLoss()
    model, opt, sched, loader = _setup(loader_seed=loader_seed)
    full = fit(model, loss_fn, opt, loader, epochs=4, scheduler=sched, progress=False)
    expected = model.state_dict()

    ckpt = tmp_path / "ckpt.npz"
    model, opt, sched, loader = _setup(loader_seed=loader_seed)
    fit(model, loss_fn, opt, loader, epochs=2, scheduler=sched, progress=False, checkpoint=ckpt)
    mg.manual_seed(999)  # whatever happens in between must not matter
    # fresh objects, even differently seeded
    model, opt, sched, loader = _setup(seed=5, loader_seed=loader_seed)
    resumed = fit(
        model,
        loss_fn,
        opt,
        loader,
        epochs=4,
        scheduler=sched,
        progress=False,
        checkpoint=ckpt,
        resume=True,
    )
    assert resumed["loss"] == full["loss"] and resumed["lr"] == full["lr"]
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, expected[name], err_msg=name)


def test_resume_needs_a_checkpoint_path() -> None:
    model, opt, _, loader = _setup()
    with pytest.raises(ValueError, match="checkpoint="):
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, resume=True)


def test_history_json_csv_and_plot(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    h = History(
        [
            {
                "epoch": 1,
                "loss": 0.5,
                "accuracy": 0.8,
                "val_loss": None,
                "val_accuracy": None,
                "lr": 0.1,
                "seconds": 1.0,
            }
        ]
    )
    h.to_json(tmp_path / "h.json")
    assert History.from_json(tmp_path / "h.json").records == h.records
    h.to_csv(tmp_path / "h.csv")
    assert (tmp_path / "h.csv").read_text().splitlines()[0].startswith("epoch,loss,accuracy")
    assert h.plot(tmp_path / "h.png") and (tmp_path / "h.png").stat().st_size > 1000
    assert h["loss"] == [0.5] and math.isclose(h["lr"][0], 0.1)
