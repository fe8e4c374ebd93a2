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
    ],
)
def test_example_runs(name: str, args: list[str], expect: str, tmp_path: Path) -> None:
    result = run_example(name, *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert expect in result.stdout


def test_mnist_example_without_files_says_what_to_do(tmp_path: Path) -> None:
    result = run_example("train_mnist.py", cwd=tmp_path)
    assert result.returncode != 0
    assert "--download" in result.stderr and "--synthetic" in result.stderr
