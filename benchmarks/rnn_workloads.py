"""The two recurrent training-step workloads of benchmarks/rnn_step.py, as plain NumPy data.

Every implementation (the NumPy floor, minigrad, PyTorch) builds its model from the dictionary
returned by :func:`make_workload`, so all start from the same weights and batch and their losses
agree step by step. Parameter names are those of a model with attributes ``embed``, ``lstm`` and
``head`` (PyTorch layouts).

L1, an LSTM reading 28x28 images row by row, x ``(T=28, N=64, I=28)`` time-major::

    lstm = LSTM(28, 128); head = Linear(128, 10) on the last step's h
    loss: softmax cross-entropy (mean over N) on the last step

C1, one truncated-BPTT chunk of a character language model, ``idx (T=64, N=32)``::

    embed = Embedding(65, 32); lstm = LSTM(32, 128); head = Linear(128, 65) on every step
    initial state (h0, c0) given (the previous chunk's, detached): no gradient
    loss: softmax cross-entropy (mean over T*N) of the next character at every step

Both: SGD with ``lr=0.05``, ``momentum=0.9``; one step is zero_grad + forward + backward +
update on the same batch.

Example:
    >>> w = make_workload("L1")
    >>> w["x"].shape, list(w["params"])[:2]
    ((28, 64, 28), ['lstm.weight_ih_l0', 'lstm.weight_hh_l0'])
"""

from __future__ import annotations

from typing import Any

import numpy as np

WORKLOADS = ("L1", "C1")
LR = 0.05
MOMENTUM = 0.9
# per workload: steps T, batch N, input size (or vocabulary for C1), hidden H, classes K
SIZES = {
    "L1": {"T": 28, "N": 64, "I": 28, "H": 128, "K": 10},
    "C1": {"T": 64, "N": 32, "I": 32, "H": 128, "K": 65},
}


def make_workload(name: str, seed: int = 0) -> dict[str, Any]:
    """Deterministic weights, batch and hyper-parameters for workload ``name`` (float32).

    LSTM weights and biases uniform in ``+-1/sqrt(H)``, the head in ``+-1/sqrt(H)``, the
    embedding N(0, 1) (PyTorch's defaults); inputs uniform in [0, 1), labels uniform.

    Example:
        >>> make_workload("C1")["params"]["embed.weight"].shape
        (65, 32)
    """
    if name not in SIZES:
        raise ValueError(f"unknown workload {name!r}; expected one of {WORKLOADS}")
    s = SIZES[name]
    t, n, i, h, k = s["T"], s["N"], s["I"], s["H"], s["K"]
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(h)

    def uniform(*shape: int) -> np.ndarray:
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    params: dict[str, np.ndarray] = {}
    if name == "C1":
        params["embed.weight"] = rng.standard_normal((k, i)).astype(np.float32)
    params["lstm.weight_ih_l0"] = uniform(4 * h, i)
    params["lstm.weight_hh_l0"] = uniform(4 * h, h)
    params["lstm.bias_ih_l0"] = uniform(4 * h)
    params["lstm.bias_hh_l0"] = uniform(4 * h)
    params["head.weight"] = uniform(k, h)
    params["head.bias"] = uniform(k)
    out: dict[str, Any] = {"name": name, "params": params, "lr": LR, "momentum": MOMENTUM}
    if name == "L1":
        out["x"] = rng.random((t, n, i), dtype=np.float32)
        out["y"] = rng.integers(0, k, n).astype(np.int64)
    else:
        text = rng.integers(0, k, (t + 1, n)).astype(np.int64)
        out["idx"], out["y"] = text[:-1], text[1:]
        out["h0"] = rng.uniform(-0.5, 0.5, (1, n, h)).astype(np.float32)
        out["c0"] = rng.uniform(-1.0, 1.0, (1, n, h)).astype(np.float32)
    return out


def astype(workload: dict[str, Any], dtype: type | np.dtype) -> dict[str, Any]:
    """A copy of ``workload`` with its float arrays cast to ``dtype`` (for gradient checks).

    Example:
        >>> astype(make_workload("L1"), np.float64)["x"].dtype
        dtype('float64')
    """
    out = dict(workload)
    out["params"] = {k: v.astype(dtype) for k, v in workload["params"].items()}
    for key in ("x", "h0", "c0"):
        if key in workload:
            out[key] = workload[key].astype(dtype)
    return out
