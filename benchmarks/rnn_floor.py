"""The floor for the recurrent workloads: a hand-written, straight-line NumPy LSTM training step.

No autograd, no graph, every buffer allocated once in ``__init__`` and written with ``out=``.
It takes liberties a framework's separate ops cannot:

* The two LSTM biases are added once, in the input projection (their gradients are equal).
* The input projection of all steps is one GEMM, and so are the weight gradients: the gate
  gradients of every step are kept in one ``(T, N, 4H)`` buffer, then ``dW_ih``, ``dW_hh`` and
  the bias gradient are one GEMM or sum each, after the backward loop.
* Every step's h and c live in ``(T+1, N, H)`` buffers, so nothing is copied between steps.
* All parameters, gradients and momentum buffers live in three flat arrays, and backward starts
  from ``lr * d loss``, so the SGD update is three vectorized calls for the whole model.

Runs in float64 when given float64 weights and data (for numerical gradient checks).

Example:
    >>> from benchmarks.rnn_workloads import make_workload
    >>> runner = build("L1", make_workload("L1"))
    >>> loss = runner.step()
    >>> sorted(runner.gradients())[:2]
    ['head.bias', 'head.weight']
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from benchmarks.reference_numpy import FlatParams, FloorRunner, softmax_xent


class LSTMFloor(FloorRunner):
    """L1 (classify from the last step) and C1 (embedding, predict at every step, given state)."""

    def __init__(self, workload: dict[str, Any]) -> None:
        params = workload["params"]
        self.per_step = "embed.weight" in params
        self.lr, self.momentum = workload["lr"], workload["momentum"]
        dt = params["head.weight"].dtype
        k, h = params["head.weight"].shape
        i = params["lstm.weight_ih_l0"].shape[1]
        blocks = {name: value.shape for name, value in params.items()}
        self.fp = FlatParams(blocks, dt)
        self.params, self.grads = self.fp.p, self.fp.g
        for name, value in params.items():
            np.copyto(self.params[name], value)
        if self.per_step:
            self.idx = workload["idx"]
            t, n = self.idx.shape
            self.x = np.empty((t, n, i), dt)
            self.onehot = np.zeros((k, t * n), dt)
            self.d_x = np.empty((t * n, i), dt)
            self.hs = np.empty((t + 1, n, h), dt)
            self.cs = np.empty((t + 1, n, h), dt)
            self.h0, self.c0 = workload["h0"][0], workload["c0"][0]
            rows = t * n
        else:
            self.x = workload["x"]
            t, n, _ = self.x.shape
            self.hs = np.zeros((t + 1, n, h), dt)
            self.cs = np.zeros((t + 1, n, h), dt)
            rows = n
        self.y = workload["y"].reshape(-1)
        self.t, self.n, self.h = t, n, h
        self.gates = np.empty((t, n, 4 * h), dt)
        self.tanh_c = np.empty((t, n, h), dt)
        self.bias = np.empty(4 * h, dt)
        self.recurrent = np.empty((n, 4 * h), dt)
        self.logits = np.empty((rows, k), dt)
        self.d_logits = np.empty((rows, k), dt)
        self.d_h_out = np.empty((rows, h), dt)
        self.d_gates = np.empty((t, n, 4 * h), dt)
        self.dh = np.empty((n, h), dt)
        self.dc = np.empty((n, h), dt)
        self.tmp = np.empty((n, h), dt)
        self.tmp2 = np.empty((n, h), dt)
        self.col = np.arange(rows)
        self.ones = np.ones(t * n, dt)

    def forward_backward(self, grad_scale: float = 1.0) -> float:
        """Loss of the current weights; ``grad_scale`` times the gradients into ``self.grads``."""
        p, g = self.params, self.grads
        t, n, h = self.t, self.n, self.h
        w_ih, w_hh = p["lstm.weight_ih_l0"], p["lstm.weight_hh_l0"]
        if self.per_step:
            np.take(p["embed.weight"], self.idx, axis=0, out=self.x)
            np.copyto(self.hs[0], self.h0)
            np.copyto(self.cs[0], self.c0)
        x2 = self.x.reshape(t * n, -1)
        gates2 = self.gates.reshape(t * n, 4 * h)
        np.add(p["lstm.bias_ih_l0"], p["lstm.bias_hh_l0"], out=self.bias)
        np.matmul(x2, w_ih.T, out=gates2)
        gates2 += self.bias
        for s in range(t):
            a = self.gates[s]
            np.matmul(self.hs[s], w_hh.T, out=self.recurrent)
            a += self.recurrent
            special.expit(a[:, : 2 * h], out=a[:, : 2 * h])
            np.tanh(a[:, 2 * h : 3 * h], out=a[:, 2 * h : 3 * h])
            special.expit(a[:, 3 * h :], out=a[:, 3 * h :])
            i, f, gg, o = a[:, :h], a[:, h : 2 * h], a[:, 2 * h : 3 * h], a[:, 3 * h :]
            c_new = self.cs[s + 1]
            np.multiply(f, self.cs[s], out=c_new)
            np.multiply(i, gg, out=self.tmp)
            c_new += self.tmp
            np.tanh(c_new, out=self.tanh_c[s])
            np.multiply(o, self.tanh_c[s], out=self.hs[s + 1])

        # head and loss
        feats = self.hs[1:].reshape(t * n, h) if self.per_step else self.hs[t]
        w_out = p["head.weight"]
        np.matmul(feats, w_out.T, out=self.logits)
        self.logits += p["head.bias"]
        loss = softmax_xent(self.logits.T, self.y, self.d_logits.T, self.col, grad_scale)
        np.matmul(self.d_logits.T, feats, out=g["head.weight"])
        np.sum(self.d_logits, axis=0, out=g["head.bias"])
        np.matmul(self.d_logits, w_out, out=self.d_h_out)

        # backpropagation through time
        dh, dc, tmp, tmp2 = self.dh, self.dc, self.tmp, self.tmp2
        dc[...] = 0
        if self.per_step:
            d_out = self.d_h_out.reshape(t, n, h)
            dh[...] = 0
        else:
            np.copyto(dh, self.d_h_out)
        for s in range(t - 1, -1, -1):
            if self.per_step:
                dh += d_out[s]
            a, da = self.gates[s], self.d_gates[s]
            i, f, gg, o = a[:, :h], a[:, h : 2 * h], a[:, 2 * h : 3 * h], a[:, 3 * h :]
            tc = self.tanh_c[s]
            # dc += dh * o * (1 - tanh_c**2)
            np.multiply(tc, tc, out=tmp)
            np.subtract(1, tmp, out=tmp)
            tmp *= o
            tmp *= dh
            dc += tmp
            # do = dh * tanh_c * o * (1 - o)
            np.subtract(1, o, out=tmp)
            tmp *= o
            np.multiply(dh, tc, out=tmp2)
            np.multiply(tmp2, tmp, out=da[:, 3 * h :])
            # di = dc * g * i * (1 - i)
            np.subtract(1, i, out=tmp)
            tmp *= i
            np.multiply(dc, gg, out=tmp2)
            np.multiply(tmp2, tmp, out=da[:, :h])
            # dg = dc * i * (1 - g**2)
            np.multiply(gg, gg, out=tmp)
            np.subtract(1, tmp, out=tmp)
            np.multiply(dc, i, out=tmp2)
            np.multiply(tmp2, tmp, out=da[:, 2 * h : 3 * h])
            # df = dc * c_prev * f * (1 - f)
            np.subtract(1, f, out=tmp)
            tmp *= f
            np.multiply(dc, self.cs[s], out=tmp2)
            np.multiply(tmp2, tmp, out=da[:, h : 2 * h])
            dc *= f
            np.matmul(da, w_hh, out=dh)

        d_gates2 = self.d_gates.reshape(t * n, 4 * h)
        np.matmul(d_gates2.T, self.hs[:t].reshape(t * n, h), out=g["lstm.weight_hh_l0"])
        np.matmul(d_gates2.T, x2, out=g["lstm.weight_ih_l0"])
        np.matmul(self.ones, d_gates2, out=g["lstm.bias_ih_l0"])
        np.copyto(g["lstm.bias_hh_l0"], g["lstm.bias_ih_l0"])
        if self.per_step:
            np.matmul(d_gates2, w_ih, out=self.d_x)
            flat = self.idx.reshape(-1)
            self.onehot[...] = 0
            self.onehot[flat, self.col] = 1
            np.matmul(self.onehot, self.d_x, out=g["embed.weight"])
        return loss


def build(name: str, workload: dict[str, Any]) -> LSTMFloor:
    """The floor's runner for workload ``name`` (L1 or C1).

    Example:
        >>> from benchmarks.rnn_workloads import make_workload
        >>> build("C1", make_workload("C1")).params["embed.weight"].shape
        (65, 32)
    """
    if name not in ("L1", "C1"):
        raise ValueError(f"unknown workload {name!r}")
    return LSTMFloor(workload)


def version() -> str:
    """The NumPy version the floor runs on."""
    return np.__version__
