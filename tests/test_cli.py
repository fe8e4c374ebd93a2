"""The command line: train, evaluate, predict and summary end to end, resuming on the schedule
of a straight run, and every mistake reported in one line, never a traceback.

Most runs call ``main`` in this process (fast: a small MLP, one or two epochs); the tests of
what a process does (the console script, signals, the exit status of a fresh interpreter) run
``python -m minigrad``.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from support import subprocess_env

import minigrad as mg
from minigrad import __main__ as cli
from minigrad import _commands, models
from minigrad import train as train_module

ROOT = Path(__file__).resolve().parents[1]
MLP = ("train", "--model", "mlp", "--quiet")
TEST_PER_CLASS = [35, 36, 35, 36, 36, 36, 36, 35, 34, 36]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    monkeypatch.setenv("MINIGRAD_HOME", str(tmp_path / "cache"))


def _train_once(folder: Path, *args: str) -> Path:
    """A run trained once for the whole module (tests copy it before changing it)."""
    os.environ.setdefault("MPLCONFIGDIR", str(folder.parent / "mpl"))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main([*args, "--quiet", "--out", str(folder)]) == 0
    (folder.parent / "stdout.txt").write_text(printed.getvalue())
    return folder


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLP trained 2 epochs on the digits."""
    return _train_once(tmp_path_factory.mktemp("mlp") / "run", *MLP, "--epochs", "2")


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLP trained 4 epochs in one go: what resumed runs are compared with."""
    return _train_once(tmp_path_factory.mktemp("straight") / "run", *MLP, "--epochs", "4")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default CNN trained 1 epoch on the digits, with its best epoch kept."""
    folder = tmp_path_factory.mktemp("cnn") / "run"
    return _train_once(folder, "train", "--epochs", "1", "--save-best")


def copy_of(run_folder: Path, name: str = "o") -> str:
    shutil.copytree(run_folder, name)
    return name


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """``main(args)`` in this process: (exit status, stdout, stderr)."""
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def run_process(*args: str, executable: list[str] | None = None) -> subprocess.CompletedProcess:
    command = executable or [sys.executable, "-m", "minigrad"]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
        check=False,
    )


def history(folder: str | Path) -> list[dict]:
    return json.loads(Path(folder, "history.json").read_text())


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# --- train -----------------------------------------------------------------------------------
def test_train_runs_end_to_end_and_writes_its_files(capsys) -> None:
    status, out, err = run(capsys, "train", "--model", "mlp", "--epochs", "2", "--out", "out")
    assert status == 0, err
    assert "epoch 2/2" in out and "val_loss" in out and "test accuracy" in out
    assert "1,299 training / 143 validation / 355 test images" in out
    for name in ("checkpoint.npz", "history.json", "history.csv", "curves.png"):
        assert Path("out", name).exists(), name
    records = history("out")
    assert len(records) == 2 and {"val_loss", "val_accuracy"} <= set(records[0])


def test_the_validation_split_is_held_out_of_the_training_data() -> None:
    _, y = mg.data.load_digits("train")
    train, val = cli.hold_out(y, 0.1, seed=0)
    assert len(train) + len(val) == len(y) and not set(train) & set(val)
    assert np.bincount(y[val]).tolist() == [round(0.1 * n) for n in np.bincount(y)]
    _, val_again = cli.hold_out(y, 0.1, seed=0)
    assert np.array_equal(val, val_again) and not np.array_equal(val, cli.hold_out(y, 0.1, 1)[1])


def test_checkpoints_record_what_rebuilds_and_feeds_the_model(mlp_run) -> None:
    config = mg.load(mlp_run / "checkpoint.npz")["config"]
    assert config["model"] == "mlp" and config["dataset"] == "digits"
    assert config["input"] == {
        "shape": [1, 8, 8],
        "range": [0.0, 1.0],
        "levels": 17,
        "ink": "light",
    }
    assert config["classes"] == [str(d) for d in range(10)]
    assert config["lr"] == 0.002 and config["epochs"] == 2 and config["val_fraction"] == 0.1


def test_a_new_run_into_a_folder_holding_a_run_refuses_unless_overwrite(capsys, trained) -> None:
    copy_of(trained)
    before = Path("o/checkpoint.npz").read_bytes()
    status, _, err = run(capsys, *MLP, "--epochs", "1", "--out", "o")
    assert status == 1
    assert "o already holds a run (checkpoint.npz): pass --resume" in one_error_line(err)
    assert Path("o/checkpoint.npz").read_bytes() == before
    status, _, err = run(
        capsys, *MLP, "--epochs", "1", "--out", "o", "--overwrite", "--val-fraction", "0"
    )
    assert status == 0, err
    assert not Path("o/best.npz").exists()  # the earlier run's files went with it
    assert mg.load("o/checkpoint.npz")["config"]["model"] == "mlp"


def test_save_best_keeps_the_epoch_with_the_lowest_validation_loss(capsys) -> None:
    status, _, err = run(capsys, *MLP, "--epochs", "3", "--out", "o", "--save-best", "--lr", "0.05")
    assert status == 0, err
    losses = [r["val_loss"] for r in history("o")]
    best = mg.load("o/best.npz")
    assert best["epoch"] == int(np.argmin(losses)) + 1 and best["val_loss"] == min(losses)
    assert best["config"]["model"] == "mlp"


def test_an_unwritable_out_is_found_before_the_first_epoch(capsys) -> None:
    Path("afile").write_text("not a folder")
    began = time.perf_counter()
    status, out, err = run(capsys, "train", "--model", "mlp", "--out", "afile/run")
    assert status == 1 and "epoch 1" not in out
    assert "--out afile/run: cannot write there" in one_error_line(err)
    assert time.perf_counter() - began < 30


# --- resuming ---------------------------------------------------------------------------------
def _lrs(folder: str | Path) -> list[float]:
    return [r["lr"] for r in history(folder)]


def test_an_interrupted_run_resumes_bit_for_bit(capsys, monkeypatch, straight_run) -> None:
    real_fit = train_module.fit

    def fit_stopping_after_two(*args, **kwargs):
        kwargs["callbacks"] = [*kwargs.get("callbacks", []), lambda h: len(h) == 2]
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(train_module, "fit", fit_stopping_after_two)
    run(capsys, *MLP, "--epochs", "4", "--out", "cut")
    monkeypatch.setattr(train_module, "fit", real_fit)
    assert mg.load("cut/checkpoint.npz")["epoch"] == 2
    status, _, err = run(capsys, *MLP, "--out", "cut", "--resume")  # --epochs 4 from the run
    assert status == 0, err
    assert history("cut") == [
        {**r, "seconds": c["seconds"]}
        for r, c in zip(history(straight_run), history("cut"), strict=True)
    ]
    straight, cut = mg.load(straight_run / "checkpoint.npz"), mg.load("cut/checkpoint.npz")
    for key, value in straight["model"].items():
        np.testing.assert_array_equal(cut["model"][key], value, err_msg=key)


def test_resuming_to_more_epochs_follows_the_schedule_of_a_straight_run(
    capsys, mlp_run, straight_run
) -> None:
    copy_of(mlp_run, "longer")
    status, _, err = run(capsys, *MLP, "--epochs", "4", "--out", "longer", "--resume")
    assert status == 0, err
    straight, longer = _lrs(straight_run), _lrs("longer")
    assert longer[2:] == straight[2:]  # epochs 3 and 4 at a straight 4-epoch run's rates
    assert all(lr > 0 for lr in longer)  # never lr 0 (it was 0 at epoch 3)
    assert mg.load("longer/checkpoint.npz")["config"]["epochs"] == 4


def test_lr_given_on_resume_is_honoured(capsys, mlp_run) -> None:
    copy_of(mlp_run)
    status, _, err = run(capsys, *MLP, "--epochs", "3", "--out", "o", "--resume", "--lr", "0.01")
    assert status == 0, err
    assert math.isclose(_lrs("o")[2], 0.01 * (1 + math.cos(math.pi * 2 / 3)) / 2)
    assert mg.load("o/checkpoint.npz")["config"]["lr"] == 0.01


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--epochs", "1"), "has trained 2 of --epochs 1: pass a larger --epochs"),
        (("--epochs", "2"), "has trained 2 of --epochs 2"),
        (("--epochs", "3", "--model", "cnn"), "was trained with --model mlp, not cnn"),
        (("--epochs", "3", "--batch-size", "32"), "was trained with --batch-size 64, not 32"),
        (("--epochs", "3", "--overwrite"), "--resume continues the run in --out and --overwrite"),
    ],
)
def test_a_resume_that_cannot_continue_the_run_says_why(capsys, mlp_run, args, message) -> None:
    copy_of(mlp_run)
    status, _, err = run(capsys, *MLP, "--out", "o", "--resume", *args)
    assert status == 1 and message in one_error_line(err)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epoch": -5}, "'epoch' must be an int >= 0, got -5"),
        ({"epoch": "two"}, "'epoch' must be an int >= 0, got 'two'"),
        ({"history": {"records": []}}, "'history' must hold one record per epoch trained (2)"),
        ({"config": "cnn"}, "holds no run settings ('config')"),
        ({"config": {"model": "resnet"}}, "the run settings are damaged (model, dataset"),
    ],
)
def test_resuming_an_odd_checkpoint_fails_in_one_line(capsys, mlp_run, change, message) -> None:
    copy_of(mlp_run)
    state = mg.load("o/checkpoint.npz")
    mg.save({**state, **change}, "o/checkpoint.npz")
    status, out, err = run(capsys, *MLP, "--epochs", "4", "--out", "o", "--resume")
    assert status == 1 and message in one_error_line(err) and "epoch 3" not in out


# --- evaluate, predict, summary ----------------------------------------------------------------
def test_evaluate_prints_accuracy_per_class_and_the_confusion_matrix(capsys, trained) -> None:
    status, out, err = run(capsys, "evaluate", str(trained / "checkpoint.npz"))
    assert status == 0, err
    lines = out.splitlines()
    assert (
        lines[0]
        == f"{trained / 'checkpoint.npz'}: a CNN trained 1 epoch on digits; test split, 355 images"
    )
    accuracy = float(lines[1].split()[1].rstrip("%")) / 100
    right = [int(line.split()[2 + int(line.split()[0])]) for line in lines[5:15]]
    assert sum(right) == round(accuracy * 355)  # the diagonal adds up to the accuracy
    assert lines[4].startswith("true \\ predicted")
    assert all(
        line.endswith(f"of {n}") for line, n in zip(lines[5:15], TEST_PER_CLASS, strict=True)
    )
    assert (trained / "confusion-test.png").stat().st_size > 1000
    status, out, _ = run(capsys, "evaluate", str(trained / "best.npz"), "--split", "validation")
    assert status == 0 and "validation split, 143 images" in out


def test_evaluate_matches_the_final_test_accuracy_of_train(capsys, mlp_run) -> None:
    _, evaluated, _ = run(capsys, "evaluate", str(mlp_run / "checkpoint.npz"))
    reported = (mlp_run.parent / "stdout.txt").read_text().split()  # test accuracy 91.83% ...
    assert reported[:2] == ["test", "accuracy"]
    assert f"accuracy {reported[2]} " in evaluated


def _save_png(path: str, image: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(path)


def test_predict_reads_an_image_file_made_like_the_training_images(capsys, trained) -> None:
    model = models.build("cnn", (1, 8, 8))
    model.load_state_dict(mg.load(trained / "checkpoint.npz")["model"])
    model.eval()
    x, _ = mg.data.load_digits("test")
    names = []
    for i in range(6):
        # dark ink on white paper, 8 times larger: prepare() must undo both
        _save_png(f"digit{i}.png", 1 - np.kron(x[i, 0], np.ones((8, 8))))
        names.append(f"digit{i}.png")
    expected = model(x[:6]).data.argmax(axis=1)
    status, out, err = run(capsys, "predict", str(trained / "checkpoint.npz"), *names, "--top", "2")
    assert status == 0, err
    for line, name, label in zip(out.splitlines(), names, expected, strict=True):
        assert line.startswith(f"{name}: {label}  ({label} ")
        assert line.count("%") == 2


def test_prepare_inverts_resizes_by_area_and_keeps_the_grey_levels() -> None:
    x, _ = mg.data.load_digits("test")
    config = {"input": {"shape": [1, 8, 8], "levels": 17}}
    for image in x[:20, 0]:
        if image.max() == 1 and image.min() == 0:  # stretching then changes nothing
            big = 1 - np.kron(image, np.ones((5, 5)))  # light background: inverted back
            np.testing.assert_array_equal(_commands.prepare(big, config)[0, 0], image)


def test_predict_without_pillow_says_how_to_install_it(capsys, trained, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    status, _, err = run(capsys, "predict", str(trained / "checkpoint.npz"), "x.png")
    assert status == 1
    assert one_error_line(err) == (
        "minigrad: error: minigrad predict (reading image files) needs Pillow: "
        "pip install 'minigrad[image]'"
    )


def test_summary_of_a_checkpoint_and_of_a_named_model(capsys, trained) -> None:
    status, out, _ = run(capsys, "summary", str(trained / "checkpoint.npz"))
    assert status == 0 and "71,850 parameters" in out and "(N, 32, 4, 4)" in out
    status, out, _ = run(capsys, "summary", "--model", "mlp", "--dataset", "mnist")
    assert status == 0 and "mlp for mnist (images of 28x28)" in out
    assert "Input (N, 1, 28, 28); 118,282 parameters" in out


# --- the interface -------------------------------------------------------------------------------
def test_version_and_defaults_in_help(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out == f"minigrad {mg.__version__}\n"
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default: cnn)", "(default: adam)", "(default: 64)", "(default: 0.1)"):
        assert default in text
    with pytest.raises(SystemExit):
        cli.main(["evaluate", "--help"])
    assert "(default: test)" in capsys.readouterr().out


def test_the_console_script_names_itself_minigrad() -> None:
    script = shutil.which("minigrad", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the minigrad console script is not installed next to this Python")
    result = run_process("train", "--epochs", "zero", executable=[script])
    assert result.returncode == 2
    assert result.stderr.startswith("minigrad train: error: argument --epochs")
    assert run_process("train", "--epochs", "zero").stderr.startswith("python -m minigrad train")


@pytest.mark.parametrize(
    ("args", "message", "status"),
    [
        (["train", "--epochs", "zero"], "--epochs: expected a int", 2),
        (["train", "--epochs", "-3"], "must be > 0, got -3", 2),
        (["train", "--synthetic-size", "4"], "--synthetic-size: must be >= 100, got 4", 2),
        (["train", "--val-fraction", "0.9"], "must be >= 0 and <= 0.5, got 0.9", 2),
        (["train", "--model", "resnet"], "invalid choice: 'resnet'", 2),
        (["train", "--dataset", "mnist", "--root", "nowhere"], "pass --download to fetch it", 1),
        (["train", "--resume", "--out", "empty"], "--resume: no checkpoint at empty", 1),
        (["train", "--save-best", "--val-fraction", "0"], "--save-best picks the epoch by", 1),
        (["evaluate", "missing.npz"], "No such file or directory: 'missing.npz'", 1),
        (["fly"], "invalid choice: 'fly'", 2),
        (["charlm", "--hidden", "0"], "must be positive", 2),
        (["charlm", "--text", "missing.txt"], "missing.txt", 1),
    ],
)
def test_mistakes_give_one_line_and_a_nonzero_status(capsys, args, message, status) -> None:
    try:
        got = cli.main(args)
    except SystemExit as stop:  # argparse's own errors
        got = stop.code
    err = capsys.readouterr().err
    assert got == status
    assert message in one_error_line(err)
    assert "download=True" not in err


def test_a_diverging_run_stops_in_one_line_without_numpy_warnings() -> None:
    result = run_process(*MLP, "--epochs", "1", "--optimizer", "sgd", "--lr", "1e30", "--out", "d")
    assert result.returncode == 1
    assert one_error_line(result.stderr).startswith("minigrad: error: training stopped at epoch 1")


def test_running_out_of_memory_is_one_line(capsys, monkeypatch) -> None:
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cli.models, "build", exhausted)
    status, _, err = run(capsys, *MLP, "--out", "o")
    assert status == 1
    assert one_error_line(err) == (
        "minigrad: error: out of memory (MemoryError): try a smaller --batch-size or "
        "--synthetic-size"
    )


def test_an_unexpected_error_is_one_line_naming_its_type(capsys, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli.models, "build", broken)
    status, _, err = run(capsys, *MLP, "--out", "o")
    assert status == 1 and "unexpected ZeroDivisionError: division by zero" in one_error_line(err)


# --- signals ---------------------------------------------------------------------------------
SLOW_SAVE = """
import os, sys, time
import minigrad._io as io
real_fsync = os.fsync
def slow_fsync(fd):
    print("saving", flush=True)
    time.sleep(60)
    real_fsync(fd)
io.os.fsync = slow_fsync
from minigrad.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_during_a_save_leaves_no_temporary_file(tmp_path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_SAVE, *MLP, "--epochs", "2", "--out", "o"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    )
    try:
        assert process.stdout.readline() == "saving\n"  # inside the first checkpoint's save
        assert any(p.name.endswith(".tmp") for p in (tmp_path / "o").iterdir())
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM
    assert one_error_line(err) == "minigrad: terminated"
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == []


def test_the_handler_is_the_command_lines_and_is_put_back(capsys) -> None:
    before = signal.getsignal(signal.SIGTERM)
    run(capsys, "summary")
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_library_installs_no_signal_handler() -> None:
    code = (
        "import signal, numpy as np, minigrad as mg\n"
        "from minigrad import nn, optim\n"
        "from minigrad.data import DataLoader, TensorDataset\n"
        "from minigrad.train import fit\n"
        "m = nn.Linear(2, 2)\n"
        "data = DataLoader(TensorDataset(np.ones((4, 2), np.float32), np.arange(4) % 2), 2)\n"
        "fit(m, nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.1), data, 1,\n"
        "    progress=False, checkpoint='c.npz')\n"
        "print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL,\n"
        "      signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
        check=True,
    )
    assert result.stdout.split() == ["True", "True"]


# --- the character model ---------------------------------------------------------------------
def test_charlm_trains_samples_and_reports(capsys) -> None:
    args = ["charlm", "--steps", "4", "--hidden", "16", "--sample-every", "2"]
    status, out, err = run(capsys, *args, "--sample-length", "40", "--cell", "gru")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("char model: GRU 1x16")
    assert sum(line.startswith("step ") for line in lines) == 2
    assert "validation loss" in lines[-1] and "after 4 steps" in lines[-1]


def test_charlm_on_too_short_a_text_says_so(capsys, tmp_path: Path) -> None:
    (tmp_path / "short.txt").write_text("tiny text")
    status, _, err = run(capsys, "charlm", "--text", str(tmp_path / "short.txt"))
    assert status == 1
    assert "too few" in one_error_line(err)
