"""Vanishing and exploding gradients, measured: the norm of dL/dh_0 against sequence length.

For a tanh RNN whose recurrent weight ``W_hh`` is a random orthogonal matrix scaled by 0.5
(small), 1 (orthogonal) or 2 (large), and for an LSTM (PyTorch's default init, and with the
forget-gate bias set to 1 and to 3), the script runs sequences of ``T`` random inputs from
``h_0 = 0``, takes ``L = v . h_T`` for a fixed random unit vector ``v`` per sequence, and
records the mean over the batch of ``||dL/dh_0||`` (float64, so nothing under- or overflows).
The gradient reaching ``h_0`` has crossed ``T`` steps, each multiplying it by that step's
Jacobian ``dh_t/dh_{t-1}``.

Run from the repository root (a few seconds)::

    python -m benchmarks.rnn_gradient_flow    # writes the JSON and the plot

writes ``benchmarks/results/rnn_gradient_flow.json`` and ``docs/img/rnn_gradient_flow.png``.

Example:
    >>> rows = measure(lengths=[1, 5], batch=2, hidden=8)
    >>> sorted(rows)[0], len(rows["LSTM, default init"])
    ('LSTM, default init', 2)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

import minigrad as mg
from benchmarks import report
from minigrad import nn

ROOT = Path(__file__).resolve().parent.parent
LENGTHS = [1, 2, 5, 10, 20, 30, 50, 75, 100]
INPUT_SIZE, HIDDEN, BATCH = 8, 64, 32
TANH_SCALES = {"small": 0.5, "orthogonal": 1.0, "large": 2.0}


def orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``n x n`` orthogonal matrix (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def make_layers(hidden: int, seed: int) -> dict[str, nn.Layer]:
    """The recurrent layers compared, float64, all from seeded weights."""
    rng = np.random.default_rng(seed)
    mg.manual_seed(seed)
    layers: dict[str, nn.Layer] = {}
    q = orthogonal(hidden, rng)
    for label, scale in TANH_SCALES.items():
        rnn = nn.RNN(INPUT_SIZE, hidden).to("float64")
        rnn.weight_hh_l0.data[...] = scale * q
        layers[f"tanh RNN, W_hh = {scale:g} x orthogonal ({label})"] = rnn
    lstm = nn.LSTM(INPUT_SIZE, hidden).to("float64")
    layers["LSTM, default init"] = lstm
    for forget_bias in (1, 3):
        biased = lstm.copy()
        for bias in (biased.bias_ih_l0, biased.bias_hh_l0):
            bias.data[hidden : 2 * hidden] = forget_bias / 2  # the two biases add up
        layers[f"LSTM, forget-gate bias {forget_bias}"] = biased
    return layers


def grad_h0_norm(layer: nn.Layer, x: np.ndarray, v: np.ndarray) -> float:
    """Mean over the batch of ``||dL/dh_0||`` with ``L = sum_n v_n . h_T,n``."""
    hidden = v.shape[1]
    h0 = mg.tensor(np.zeros((1, len(v), hidden)), dtype="float64", requires_grad=True)
    if isinstance(layer, nn.LSTM):
        c0 = mg.tensor(np.zeros((1, len(v), hidden)), dtype="float64")
        output, _ = layer(mg.tensor(x, dtype="float64"), (h0, c0))
    else:
        output, _ = layer(mg.tensor(x, dtype="float64"), h0)
    (grad,) = mg.grad((output[-1] * v).sum(), h0)
    return float(np.linalg.norm(grad[0], axis=1).mean())


def measure(
    lengths: list[int] = LENGTHS, batch: int = BATCH, hidden: int = HIDDEN, seed: int = 0
) -> dict[str, list[float]]:
    """``||dL/dh_0||`` per layer (label) and sequence length."""
    rng = np.random.default_rng(seed + 1)
    x_all = rng.standard_normal((max(lengths), batch, INPUT_SIZE))
    v = rng.standard_normal((batch, hidden))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return {
        label: [grad_h0_norm(layer, x_all[:t], v) for t in lengths]
        for label, layer in make_layers(hidden, seed).items()
    }


def plot(result: dict[str, Any], path: Path) -> None:
    """Log-scale plot of every curve against the sequence length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    styles = ["-o", "-s", "-^", "--D", "--v", "--x"]
    for (label, norms), style in zip(result["norms"], styles, strict=False):
        ax.semilogy(result["lengths"], norms, style, label=label, markersize=4)
    ax.set_xlabel("sequence length T (steps between h_0 and the loss)")
    ax.set_ylabel("mean ||dL/dh_0||")
    ax.set_title("Gradient reaching the first state through T steps (hidden size 64)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Measure, write the JSON and the plot."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--json", type=Path, default=ROOT / "benchmarks" / "results" / "rnn_gradient_flow.json"
    )
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "img" / "rnn_gradient_flow.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    norms = measure(seed=args.seed)
    result = {
        "command": "python -m benchmarks.rnn_gradient_flow"
        + (" " + " ".join(argv) if argv else ""),
        "settings": {"input_size": INPUT_SIZE, "hidden": HIDDEN, "batch": BATCH, "seed": args.seed},
        "lengths": LENGTHS,
        "norms": [[label, values] for label, values in norms.items()],
    }
    for label, values in norms.items():
        print(f"{label:45s} " + " ".join(f"{v:9.2e}" for v in values))
    report.write_record(args.json, result)
    plot(result, args.png)
    print(f"wrote {args.json} and {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
