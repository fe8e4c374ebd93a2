"""The examples run (on tiny settings), so they cannot rot unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, subprocess_env

EXAMPLES = ROOT / "examples"


def run_example(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=subprocess_env(MPLCONFIGDIR=str(cwd / "mpl"), MINIGRAD_HOME=str(cwd / "cache")),
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "args", "expect"),
    [
        ("train_mlp.py", ["--epochs", "2"], "test accuracy"),
        ("train_cnn.py", ["--epochs", "1", "--out", "run"], "test accuracy"),
        ("train_mnist.py", ["--synthetic", "--limit", "256", "--epochs", "1"], "test accuracy"),
        ("lenet5.py", ["--synthetic", "128", "--epochs", "1", "--save", "w.npz"], "saved"),
        ("train_lstm_digits.py", ["--epochs", "1"], "test accuracy"),
        (
            "train_lstm_digits.py",
            ["--dataset", "synthetic", "--size", "100", "--epochs", "1", "--clip-value", "0.5"],
            "test accuracy",
        ),
        (
            "train_charlm.py",
            ["--steps", "3", "--hidden", "16", "--sample-every", "2", "--sample-length", "20"],
            "validation loss",
        ),
    ],
)
def test_example_runs(name: str, args: list[str], expect: str, tmp_path: Path) -> None:
    result = run_example(name, *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert expect in result.stdout


def test_pytorch_mnist_example_saves_a_state_dict_that_loads(tmp_path: Path) -> None:
    import minigrad as mg

    args = ["--synthetic", "32", "--epochs", "1", "--dry-run", "--save-model"]
    result = run_example("pytorch_mnist.py", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Train Epoch: 1 [0/32 (0%)]" in result.stdout
    assert "Test set: Average loss" in result.stdout
    state = mg.load(tmp_path / "mnist_cnn.pt")
    assert state["fc1.weight"].shape == (128, 9216) and len(state) == 8


def test_lenet5_without_files_says_what_to_do(tmp_path: Path) -> None:
    result = run_example("lenet5.py", cwd=tmp_path)
    assert result.returncode != 0
    assert "--download" in result.stderr and "--synthetic" in result.stderr


def test_mnist_example_without_files_says_what_to_do(tmp_path: Path) -> None:
    result = run_example("train_mnist.py", cwd=tmp_path)
    assert result.returncode != 0
    assert "--download" in result.stderr and "--synthetic" in result.stderr
