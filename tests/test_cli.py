"""The command line runs end to end and reports mistakes in one line, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import subprocess_env


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "minigrad", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=subprocess_env(MPLCONFIGDIR=str(cwd / "mpl"), **(env or {})),
        timeout=300,
        check=False,
    )


def test_train_runs_end_to_end_and_writes_its_files(tmp_path: Path) -> None:
    result = run("train", "--model", "mlp", "--epochs", "2", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout
    assert "epoch 2/2" in result.stdout
    out = tmp_path / "out"
    for name in ("checkpoint.npz", "history.json", "history.csv", "curves.png"):
        assert (out / name).exists(), name
    assert len(json.loads((out / "history.json").read_text())) == 2


def test_resume_continues_from_the_checkpoint(tmp_path: Path) -> None:
    assert (
        run(
            "train", "--model", "mlp", "--epochs", "1", "--out", "o", "--quiet", cwd=tmp_path
        ).returncode
        == 0
    )
    result = run("train", "--model", "mlp", "--epochs", "2", "--out", "o", "--resume", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "epoch 1/2" not in result.stdout and "epoch 2/2" in result.stdout


@pytest.mark.parametrize(
    ("args", "message", "status"),
    [
        (["train", "--epochs", "zero"], "--epochs: expected a int", 2),
        (["train", "--epochs", "-3"], "must be positive", 2),
        (["train", "--model", "resnet"], "invalid choice: 'resnet'", 2),
        (["train", "--dataset", "mnist", "--root", "nowhere"], "download=True", 1),
        (["train", "--resume", "--out", "empty"], "no checkpoint at", 1),
        (["fly"], "invalid choice: 'fly'", 2),
        (["charlm", "--hidden", "0"], "must be positive", 2),
        (["charlm", "--text", "missing.txt"], "missing.txt", 1),
    ],
)
def test_mistakes_give_one_line_and_a_nonzero_status(tmp_path, args, message, status) -> None:
    result = run(*args, cwd=tmp_path, env={"MINIGRAD_HOME": str(tmp_path / "cache")})
    assert result.returncode == status
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_charlm_trains_samples_and_reports(tmp_path: Path) -> None:
    args = ["charlm", "--steps", "4", "--hidden", "16", "--sample-every", "2"]
    result = run(*args, "--sample-length", "40", "--cell", "gru", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("char model: GRU 1x16")
    assert sum(line.startswith("step ") for line in lines) == 2
    assert "validation loss" in lines[-1] and "after 4 steps" in lines[-1]


def test_charlm_on_too_short_a_text_says_so(tmp_path: Path) -> None:
    (tmp_path / "short.txt").write_text("tiny text")
    result = run("charlm", "--text", "short.txt", cwd=tmp_path)
    assert result.returncode == 1
    assert "too few" in result.stderr and len(result.stderr.strip().splitlines()) == 1
