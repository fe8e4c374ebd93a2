"""fit, evaluate and History: learning, metrics, the non-finite guard, checkpoints and resume."""

from __future__ import annotations

import csv
import math
import re
import sys

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


# --- arguments -------------------------------------------------------------------------------
@pytest.mark.parametrize("epochs", [-3, 0, 2.5, True, "3"])
def test_epochs_must_be_a_positive_int(epochs) -> None:
    model, opt, _, loader = _setup()
    with pytest.raises(ValueError, match=r"fit: epochs must be a positive int .* got "):
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=epochs, progress=False)


def test_unknown_metric_fails_before_training() -> None:
    model, opt, _, loader = _setup()
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"unknown metric 'acc'; known: \['accuracy', 'mae'"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, 1, progress=False, metrics=["acc"])
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


# --- the guard after the update --------------------------------------------------------------
def _blow_up_after_first_epoch(opt):
    """A callback that sets a finite but absurd learning rate once epoch 1 is over."""

    def callback(history):
        opt.param_groups[0]["lr"] = 1e300  # finite (a Python float): no check can refuse it

    return callback


def test_an_update_that_makes_parameters_non_finite_stops_and_names_the_checkpoint(
    tmp_path,
) -> None:
    model, opt, _, loader = _setup(dropout=False)
    ckpt = tmp_path / "ckpt.npz"
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(NonFiniteLossError) as info,
    ):
        fit(
            model, nn.CrossEntropyLoss(), opt, loader, epochs=3, progress=False,
            checkpoint=ckpt, callbacks=[_blow_up_after_first_epoch(opt)],
        )  # fmt: skip
    message = str(info.value)
    assert "training stopped at epoch 2, step 1: the update made parameter" in message
    assert "although the loss and the gradients were finite" in message
    assert "(lr 1e+300)" in message and "now hold that update" in message
    assert f"the last good state is in {ckpt} (after epoch 1)" in message
    assert info.value.checkpoint == ckpt and info.value.epoch == 2 and info.value.step == 1
    assert not all(np.isfinite(p.data).all() for p in model.parameters())  # what it says
    good = mg.load(ckpt)
    assert good["epoch"] == 1
    assert all(np.isfinite(v).all() for v in good["model"].values())


def test_without_a_checkpoint_the_message_says_no_good_state_is_kept() -> None:
    lin = nn.Linear(2, 2)
    opt = optim.SGD(lin.parameters(), lr=1e300)
    data = DataLoader(TensorDataset(np.ones((4, 2), np.float32), np.array([0, 1, 0, 1])), 2)
    with (
        np.errstate(over="ignore", invalid="ignore"),
        pytest.raises(NonFiniteLossError, match="no checkpoint holds a good state") as info,
    ):
        fit(lin, nn.CrossEntropyLoss(), opt, data, epochs=1, progress=False)
    assert info.value.checkpoint is None and info.value.step == 1


def test_non_finite_parameters_before_training_are_refused() -> None:
    model, opt, _, loader = _setup(dropout=False)
    model[-1].bias.data[3] = np.inf
    with pytest.raises(ValueError, match=r"fit: parameter 5\.bias is not finite before training"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, progress=False)


# --- metrics ---------------------------------------------------------------------------------
def _regression(n: int = 64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    return DataLoader(TensorDataset(x, y), 16)


def test_a_regression_model_reports_its_loss_and_no_accuracy(capsys) -> None:
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, nn.MSELoss(), opt, _regression(), epochs=3, val_loader=_regression())
    assert "accuracy" not in history.keys and "val_accuracy" not in history.keys
    assert history["loss"][-1] < history["loss"][0]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("epoch 1/3  loss ") and "acc" not in lines[0]
    assert "val_loss" in lines[0]


def test_metrics_by_name_and_by_function() -> None:
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def max_error(out, target):
        return float(np.abs(out - target).max())

    history = fit(
        model, nn.MSELoss(), opt, _regression(), epochs=2, progress=False,
        val_loader=_regression(), metrics=["mse", "mae", max_error],
    )  # fmt: skip
    for key in ("mse", "mae", "max_error", "val_mse", "val_mae", "val_max_error"):
        assert key in history.keys, key
    # the loss of MSELoss is the mean squared error: the same number twice
    assert math.isclose(history["val_loss"][-1], history["val_mse"][-1], rel_tol=1e-5)
    result = evaluate(model, _regression(), metrics=["mae"])
    assert set(result) == {"mae"}
    with pytest.raises(ValueError, match="nothing to measure"):
        evaluate(model, _regression())


def test_accuracy_on_outputs_that_are_not_class_scores_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"metric accuracy: needs outputs of shape \(N, classes\)"):
        evaluate(nn.Linear(3, 1), _regression(), metrics=["accuracy"])


def test_the_progress_bar_shows_the_running_mean_of_the_epoch(monkeypatch) -> None:
    shown = []

    class Bar:
        def __init__(self, **kwargs):
            pass

        def set_postfix(self, values, refresh):
            shown.append(dict(values))

        def update(self, n):
            pass

        def close(self):
            pass

    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    model, opt, _, loader = _setup()
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1)
    assert len(shown) == len(loader) == 8
    assert shown[-1]["loss"] == f"{history['loss'][0]:.4f}"  # the epoch's mean, not a batch's
    assert shown[-1]["acc"] == f"{history['accuracy'][0]:.2%}"
    assert len({s["loss"] for s in shown}) > 1


# --- resuming validates what it reads --------------------------------------------------------
def _crafted(tmp_path, **changes):
    """A real two-epoch checkpoint with some fields replaced."""
    model, opt, sched, loader = _setup()
    path = tmp_path / "ckpt.npz"
    fit(model, nn.CrossEntropyLoss(), opt, loader, 2, scheduler=sched, progress=False,
        checkpoint=path)  # fmt: skip
    state = mg.load(path)
    state.update(changes)
    mg.save(state, path)
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epoch": -5}, "'epoch' must be an int >= 0, got -5"),
        ({"epoch": 1.5}, "'epoch' must be an int >= 0, got 1.5"),
        ({"epoch": 9}, "the checkpoint has trained 9 epochs, more than epochs=4"),
        ({"epoch": 3}, "'history' must hold one record per epoch trained (3)"),
        ({"history": {"records": "none"}}, "'history' must hold one record per epoch"),
        ({"history": [1, 2]}, "'history' must hold one record per epoch"),
        ({"rng": {"bit_generator": "PCG64", "state": 5}}, "'rng' is not a state of minigrad's"),
        ({"rng": "seed"}, "'rng' is not a state of minigrad's generator"),
        ({"optimizer": {"state": {}, "param_groups": 5}}, "the optimizer does not match"),
        ({"scheduler": {"last_epoch": -1}}, "the scheduler does not match"),
        ({"loader": {"epoch": 2}}, "the loader does not match"),
    ],
)
def test_resume_checks_every_field_and_changes_nothing_on_error(tmp_path, changes, message):
    path = _crafted(tmp_path, **changes)
    model, opt, sched, loader = _setup(seed=3)
    before = (model.state_dict(), opt.state_dict(), sched.state_dict(), loader.state_dict())
    rng_before = mg.random.get_rng_state()
    with pytest.raises(ValueError, match=re.escape(message)):
        fit(model, nn.CrossEntropyLoss(), opt, loader, 4, scheduler=sched, progress=False,
            checkpoint=path, resume=True)  # fmt: skip
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[0][name], err_msg=name)
    assert opt.param_groups[0]["lr"] == before[1]["param_groups"][0]["lr"] and not opt.state
    assert sched.state_dict() == before[2] and loader.state_dict() == before[3]
    assert mg.random.get_rng_state() == rng_before


def test_resume_with_a_model_that_does_not_fit_names_the_part(tmp_path) -> None:
    path = _crafted(tmp_path)
    mg.manual_seed(0)
    wrong = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    with pytest.raises(ValueError, match=r"resume from .*: the model does not match: "):
        fit(wrong, nn.CrossEntropyLoss(), optim.SGD(wrong.parameters(), lr=0.1),
            _setup()[3], 4, progress=False, checkpoint=path, resume=True)  # fmt: skip


def test_a_finished_checkpoint_returns_its_history(tmp_path) -> None:
    path = _crafted(tmp_path)
    model, opt, sched, loader = _setup()
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, 2, scheduler=sched,
                  progress=False, checkpoint=path, resume=True)  # fmt: skip
    assert history["epoch"] == [1, 2]


def test_config_is_saved_in_every_checkpoint(tmp_path) -> None:
    model, opt, _, loader = _setup()
    config = {"model": {"name": "tiny"}, "classes": ["a", "b"]}
    fit(model, nn.CrossEntropyLoss(), opt, loader, 1, progress=False,
        checkpoint=tmp_path / "c.npz", config=config)  # fmt: skip
    assert mg.load(tmp_path / "c.npz")["config"] == config


# --- history files ---------------------------------------------------------------------------
def test_history_files_are_written_atomically(tmp_path, monkeypatch) -> None:
    good = History([{"epoch": 1, "loss": 0.5}])
    good.to_json(tmp_path / "h.json")
    good.to_csv(tmp_path / "h.csv")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(TypeError):
        History([{"epoch": 1, "loss": object()}]).to_json(tmp_path / "h.json")

    def interrupted(self, rows):
        raise KeyboardInterrupt

    monkeypatch.setattr(csv.DictWriter, "writerows", interrupted)
    with pytest.raises(KeyboardInterrupt):
        good.to_csv(tmp_path / "h.csv")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporary left


def test_history_into_a_missing_folder_names_the_target(tmp_path) -> None:
    target = tmp_path / "missing" / "history.json"
    with pytest.raises(FileNotFoundError) as info:
        History([{"epoch": 1}]).to_json(target)
    assert info.value.filename == str(target) and "History.to_json: cannot write" in str(info.value)
