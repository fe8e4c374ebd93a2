"""The floor: hand-written, straight-line NumPy training steps for workloads W1, W2 and W3.

No autograd, no graph, no fresh arrays in the hot loop: every buffer is allocated once in
``__init__`` and each step writes into it with ``out=``. It is the time a NumPy framework can hope
to approach, not reach, because it takes liberties a framework's separate ops cannot:

* Activations are stored feature-major, ``(features, N)``, and images as ``C, H, W, N``, so the
  im2col copies move runs of N floats, the first layer reads ``x`` through a transposed view,
  and flattening for the classifier is free (its rows are already PyTorch's ``C, H, W`` order).
* A conv's output columns are ordered ``(hp, wp, ..., n)`` where output row ``h = 2*h2 + hp``
  (``h2`` the pooled row): the four members of every 2x2 pooling window sit in four contiguous
  blocks, so max-pooling is a few ``np.maximum`` calls on whole blocks. conv1 also orders its
  pooled rows by parity, which is the phase-split layout conv2's padded input is kept in, so
  each of conv2's im2col copies and col2im adds is one call per kernel tap.
* ``pool(relu(y)) == relu(pool(y))``, so ReLU runs on the pooled (4x smaller) tensor, and its
  mask is folded into the pooling masks. The first maximum of a window keeps PyTorch's tie rule.
* Biases ride in the GEMMs: each weight is stored with its bias as an extra column (``W_aug``),
  each im2col/activation buffer has a constant row of ones, so the bias gradient falls out of
  the weight-gradient GEMM.
* All parameters, gradients and momentum buffers live in three flat arrays, and backward starts
  from ``lr * d loss``, so the SGD update is three vectorized calls for the whole model.

Numerics follow PyTorch: mean softmax cross-entropy, BatchNorm in training mode normalizing with
the biased variance (eps inside the square root, two-pass variance), running stats with momentum
0.1 and the unbiased variance, SGD whose first momentum step sets the buffer to the gradient.
Runs in float64 when given float64 weights and data (for numerical gradient checks).

Example:
    >>> from benchmarks.workloads import make_workload
    >>> runner = build("W2", make_workload("W2"))
    >>> loss = runner.step()
    >>> sorted(runner.gradients())[:2]
    ['0.bias', '0.weight']
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided


class FlatParams:
    """Parameters, gradients and momentum buffers, each one flat array carved into named blocks.

    ``blocks`` maps an internal name to its internal shape; ``p[name]``, ``g[name]`` are views.

    Example:
        >>> fp = FlatParams({"w": (2, 3)}, np.float32)
        >>> fp.p["w"].shape, fp.flat_p.shape
        ((2, 3), (6,))
    """

    def __init__(self, blocks: dict[str, tuple[int, ...]], dtype: np.dtype) -> None:
        total = sum(int(np.prod(shape)) for shape in blocks.values())
        self.flat_p = np.zeros(total, dtype)
        self.flat_g = np.zeros(total, dtype)
        self.flat_velocity = np.zeros(total, dtype)
        self.p: dict[str, np.ndarray] = {}
        self.g: dict[str, np.ndarray] = {}
        start = 0
        for name, shape in blocks.items():
            size = int(np.prod(shape))
            self.p[name] = self.flat_p[start : start + size].reshape(shape)
            self.g[name] = self.flat_g[start : start + size].reshape(shape)
            start += size
        self.first_step = True

    def sgd_step(self, momentum: float) -> None:
        """SGD with momentum when the gradient buffer holds ``lr * grad``.

        PyTorch's ``buf = momentum * buf + grad; p -= lr * buf`` (``buf = grad`` on the first
        step), kept as ``velocity = lr * buf`` so the update is three passes, not four.
        """
        if self.first_step:
            np.copyto(self.flat_velocity, self.flat_g)
            self.first_step = False
        else:
            np.multiply(self.flat_velocity, momentum, out=self.flat_velocity)
            np.add(self.flat_velocity, self.flat_g, out=self.flat_velocity)
        np.subtract(self.flat_p, self.flat_velocity, out=self.flat_p)


def softmax_xent(
    logits: np.ndarray, y: np.ndarray, grad: np.ndarray, col: np.ndarray, scale: float = 1.0
) -> float:
    """Mean cross-entropy of class-major ``logits`` (K, N); ``grad = scale * d loss / d logits``.

    ``col`` is ``np.arange(N)``. Shifted by the column max so large logits stay finite.

    Example:
        >>> g = np.empty((3, 2))
        >>> round(softmax_xent(np.zeros((3, 2)), np.array([0, 1]), g, np.arange(2)), 4)
        1.0986
    """
    n = logits.shape[1]
    scale = scale / n
    shift = logits.max(axis=0)
    np.subtract(logits, shift, out=grad)
    np.exp(grad, out=grad)
    total = grad.sum(axis=0)
    loss = float((np.log(total) + shift - logits[y, col]).sum()) / n
    np.multiply(grad, scale / total, out=grad)
    grad[y, col] -= scale
    return loss


class FloorRunner:
    """What the floor's runners share: ``params``/``grads`` (PyTorch names and layouts, views
    into the flat buffers), ``forward_backward``, and the step and gradient entry points."""

    fp: FlatParams
    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    lr: float
    momentum: float

    def forward_backward(self, grad_scale: float = 1.0) -> float:
        """Loss of the current weights; ``grad_scale`` times the gradients into ``self.grads``."""
        raise NotImplementedError

    def step(self) -> float:
        """One training step; returns the loss computed before the update."""
        # Backward from lr * d loss: the gradient buffer then holds lr * grad, saving SGD a pass.
        loss = self.forward_backward(grad_scale=self.lr)
        self.fp.sgd_step(self.momentum)
        return loss

    def gradients(self) -> dict[str, np.ndarray]:
        """Gradients (PyTorch names and layouts) of the current weights, without updating."""
        self.forward_backward()
        return {k: v.copy() for k, v in self.grads.items()}

    def buffers(self) -> dict[str, np.ndarray]:
        """BatchNorm running statistics by PyTorch name (none without BatchNorm)."""
        return {}


class MLPFloor(FloorRunner):
    """W1: Linear(784,256)-ReLU-Linear(256,128)-ReLU-Linear(128,10), feature-major."""

    def __init__(self, workload: dict[str, Any]) -> None:
        x, params = workload["x"], workload["params"]
        dt = x.dtype
        n = x.shape[0]
        self.lr, self.momentum = workload["lr"], workload["momentum"]
        # Layer 0 keeps a separate bias (its input is the caller's x, which has no ones row).
        self.fp = FlatParams(
            {"w0": (256, 784), "b0": (256,), "w2": (128, 257), "w4": (10, 129)}, dt
        )
        p, g = self.fp.p, self.fp.g
        self.params = {
            "0.weight": p["w0"], "0.bias": p["b0"],
            "2.weight": p["w2"][:, :256], "2.bias": p["w2"][:, 256],
            "4.weight": p["w4"][:, :128], "4.bias": p["w4"][:, 128],
        }  # fmt: skip
        self.grads = {
            "0.weight": g["w0"], "0.bias": g["b0"],
            "2.weight": g["w2"][:, :256], "2.bias": g["w2"][:, 256],
            "4.weight": g["w4"][:, :128], "4.bias": g["w4"][:, 128],
        }  # fmt: skip
        for key, value in params.items():
            np.copyto(self.params[key], value)
        self.x, self.y, self.col = x, workload["y"], np.arange(n)
        self.h1 = np.ones((257, n), dt)  # rows 0..255: relu(layer 0); row 256: ones
        self.h2 = np.ones((129, n), dt)
        self.logits = np.empty((10, n), dt)
        self.d_logits = np.empty((10, n), dt)
        self.d_h2 = np.empty((128, n), dt)
        self.d_h1 = np.empty((256, n), dt)
        self.zeros1 = np.zeros((256, n), dt)
        self.zeros2 = np.zeros((128, n), dt)
        self.ones_n = np.ones(n, dt)
        self.mask1 = np.empty((256, n), bool)
        self.mask2 = np.empty((128, n), bool)

    def forward_backward(self, grad_scale: float = 1.0) -> float:
        """Loss of the current weights; ``grad_scale`` times the gradients into ``self.grads``."""
        p, g = self.fp.p, self.fp.g
        h1, h2 = self.h1[:256], self.h2[:128]
        np.matmul(p["w0"], self.x.T, out=h1)
        np.add(h1, p["b0"][:, None], out=h1)
        np.maximum(h1, self.zeros1, out=h1)
        np.matmul(p["w2"], self.h1, out=h2)
        np.maximum(h2, self.zeros2, out=h2)
        np.matmul(p["w4"], self.h2, out=self.logits)
        loss = softmax_xent(self.logits, self.y, self.d_logits, self.col, grad_scale)

        np.matmul(self.d_logits, self.h2.T, out=g["w4"])
        np.matmul(p["w4"][:, :128].T, self.d_logits, out=self.d_h2)
        np.greater(h2, 0, out=self.mask2)
        np.multiply(self.d_h2, self.mask2, out=self.d_h2)
        np.matmul(self.d_h2, self.h1.T, out=g["w2"])
        np.matmul(p["w2"][:, :256].T, self.d_h2, out=self.d_h1)
        np.greater(h1, 0, out=self.mask1)
        np.multiply(self.d_h1, self.mask1, out=self.d_h1)
        np.matmul(self.d_h1, self.x, out=g["w0"])
        np.matmul(self.d_h1, self.ones_n, out=g["b0"])
        return loss


def pool_forward(y: np.ndarray, out: np.ndarray, bufs: dict[str, np.ndarray]) -> None:
    """``out = relu(maxpool2x2(y))`` where ``y`` (C, 4, *S) holds each window's 4 members.

    Block order is the window's scan order (0,0), (0,1), (1,0), (1,1), handled as two pairs
    (upper, lower) so each call covers both. Saves the bool masks pool_backward needs: ``right``
    (C, 2, *S), whether the right member beats the left in each pair, and ``select`` (C, 2, *S),
    whether the window's first maximum is in that pair and positive (ReLU's mask folded in).
    Strict comparisons send a tie to the earlier member, as PyTorch does.
    """
    pairs = y.reshape(y.shape[0], 2, 2, *y.shape[2:])
    best, select, pos = bufs["best"], bufs["select"], bufs["pos"]
    np.greater(pairs[:, :, 1], pairs[:, :, 0], out=bufs["right"])
    np.maximum(pairs[:, :, 0], pairs[:, :, 1], out=best)
    np.greater(best[:, 1], best[:, 0], out=select[:, 1])
    np.maximum(best[:, 0], best[:, 1], out=best[:, 0])
    np.greater(best[:, 0], 0, out=pos)
    np.maximum(best[:, 0], bufs["zeros"], out=out)
    np.greater(pos, select[:, 1], out=select[:, 0])
    np.logical_and(select[:, 1], pos, out=select[:, 1])


def pool_backward(grad: np.ndarray, grad_y: np.ndarray, bufs: dict[str, np.ndarray]) -> None:
    """Routes ``grad`` (C, *S) of relu(maxpool(y)) to ``grad_y`` (C, 4, *S), the first maximum."""
    pairs = grad_y.reshape(grad_y.shape[0], 2, 2, *grad_y.shape[2:])
    np.multiply(grad[:, None], bufs["select"], out=pairs[:, :, 0])
    np.multiply(pairs[:, :, 0], bufs["right"], out=pairs[:, :, 1])
    np.subtract(pairs[:, :, 0], pairs[:, :, 1], out=pairs[:, :, 0])


def pool_buffers(shape: tuple[int, ...], dt: np.dtype) -> dict[str, np.ndarray]:
    """The scratch arrays and masks of one pooling layer whose output has ``shape`` (C, *S)."""
    pair_shape = (shape[0], 2, *shape[1:])
    return {
        "best": np.empty(pair_shape, dt),
        "zeros": np.zeros(shape, dt),
        "pos": np.empty(shape, bool),
        "right": np.empty(pair_shape, bool),
        "select": np.empty(pair_shape, bool),
    }


class BatchNormState:
    """Running statistics and the per-step values BatchNorm's backward needs, for C channels."""

    def __init__(
        self, mean: np.ndarray, var: np.ndarray, eps: float, momentum: float, m: int
    ) -> None:
        self.running_mean, self.running_var = mean.copy(), var.copy()
        self.eps, self.momentum = eps, momentum
        self.ones = np.ones(m, mean.dtype)  # M = N * H * W values per channel
        self.invstd = np.ones_like(mean)
        self.scale = np.ones_like(mean)


def bn_forward(
    z: np.ndarray, gamma: np.ndarray, beta: np.ndarray, out: np.ndarray, st: BatchNormState
) -> None:
    """Training-mode BatchNorm over the columns of ``z`` (C, M); centers ``z`` in place."""
    m = z.shape[1]
    mean = np.matmul(z, st.ones) / m
    np.subtract(z, mean[:, None], out=z)
    var = np.vecdot(z, z) / m
    st.invstd = 1.0 / np.sqrt(var + st.eps)
    st.scale = gamma * st.invstd
    np.multiply(z, st.scale[:, None], out=out)
    np.add(out, beta[:, None], out=out)
    st.running_mean *= 1.0 - st.momentum
    st.running_mean += st.momentum * mean
    st.running_var *= 1.0 - st.momentum
    st.running_var += st.momentum * var * (m / (m - 1))


def bn_backward(
    grad: np.ndarray,
    zc: np.ndarray,
    g_gamma: np.ndarray,
    g_beta: np.ndarray,
    st: BatchNormState,
) -> None:
    """Turns ``grad`` (C, M) of BatchNorm's output into the gradient of its input, in place.

    ``dz = scale * (grad - mean(grad) - xhat * mean(grad * xhat))`` with ``xhat = zc * invstd``,
    rewritten per channel as ``scale * grad + k1 * zc + k0``. Overwrites ``zc``.
    """
    m = grad.shape[1]
    np.matmul(grad, st.ones, out=g_beta)
    dot = np.vecdot(grad, zc)
    np.multiply(dot, st.invstd, out=g_gamma)
    k1 = -st.scale * st.invstd * g_gamma / m
    k0 = -st.scale * g_beta / m
    np.multiply(zc, k1[:, None], out=zc)
    np.multiply(grad, st.scale[:, None], out=grad)
    np.add(grad, zc, out=grad)
    np.add(grad, k0[:, None], out=grad)


def conv1_window_view(xp: np.ndarray) -> np.ndarray:
    """conv1's im2col source: a view ``(1, 3, 3, hp, wp, eh, ew, qh, qw, N)`` of ``xp``.

    ``xp`` is the padded input ``(1, 30, 30, N)``. Element ``[c, i, j, hp, wp, eh, ew, qh, qw, n]``
    is ``xp[c, 4*qh + 2*eh + hp + i, 4*qw + 2*ew + wp + j, n]``: the input under tap (i, j) at
    output row ``2*h1 + hp`` with pooled row ``h1 = 2*qh + eh``, so pooling yields its rows split
    by parity (``eh``), the order conv2's phase-split input wants.
    """
    s_c, s_h, s_w, s_n = xp.strides
    shape = (1, 3, 3, 2, 2, 2, 2, 7, 7, xp.shape[3])
    strides = (s_c, s_h, s_w, s_h, s_w, 2 * s_h, 2 * s_w, 4 * s_h, 4 * s_w, s_n)
    return as_strided(xp, shape, strides, writeable=False)


def phase_split_view(xs: np.ndarray, k_h: int, k_w: int, writeable: bool) -> np.ndarray:
    """A view ``(C, 2, 2, 7, 7, N)`` of a phase-split padded image ``xs`` (C, 2, 2, 8, 8, N).

    ``xs[c, ph, pw, u, v, n]`` holds padded pixel ``(2*u + ph, 2*v + pw)``. Element
    ``[c, p, q, u, v, n]`` of the view is padded pixel ``(2*u + p + k_h, 2*v + q + k_w)``: for
    ``k = i`` the input under tap ``(i, j)`` at output pixel ``(2*u + p, 2*v + q)`` (im2col,
    col2im); for ``k = 1`` the interior, pooled pixel ``(2*u + p, 2*v + q)``. A row ``a`` lives
    at phase ``a % 2``, cell ``a // 2``, and a length-2 axis can step between any two places,
    so each such view is one strided array.
    """
    s_c, s_ph, s_pw, s_u, s_v, s_n = xs.strides

    def offset(a: int, s_phase: int, s_cell: int) -> int:
        return (a % 2) * s_phase + (a // 2) * s_cell

    base = offset(k_h, s_ph, s_u) + offset(k_w, s_pw, s_v)
    step_h = offset(k_h + 1, s_ph, s_u) - offset(k_h, s_ph, s_u)
    step_w = offset(k_w + 1, s_pw, s_v) - offset(k_w, s_pw, s_v)
    start = xs.reshape(-1)[base // xs.itemsize :]
    shape = (xs.shape[0], 2, 2, 7, 7, xs.shape[5])
    return as_strided(start, shape, (s_c, step_h, step_w, s_u, s_v, s_n), writeable=writeable)


class CNNFloor(FloorRunner):
    """W2 (``batchnorm=False``) and W3 (``batchnorm=True``) in ``C, H, W, N`` layout.

    conv2's padded input lives phase-split, ``(8, 2, 2, 8, 8, N)`` for the 16x16 padded image,
    so every im2col copy and col2im add is one call per tap moving runs of ``7*N`` floats.
    """

    def __init__(self, workload: dict[str, Any], batchnorm: bool) -> None:
        x, dt = workload["x"], workload["x"].dtype
        n = x.shape[0]
        self.lr, self.momentum, self.batchnorm = workload["lr"], workload["momentum"], batchnorm
        conv1, conv2, fc = (0, 4, 9) if batchnorm else (0, 3, 7)
        blocks = {"c1": (8, 10), "c2": (16, 73), "fc": (10, 785)}
        if batchnorm:
            blocks.update({"bn1w": (8,), "bn1b": (8,), "bn2w": (16,), "bn2b": (16,)})
        self.fp = FlatParams(blocks, dt)
        self.params, self.grads = {}, {}
        for target, flat in ((self.params, self.fp.p), (self.grads, self.fp.g)):
            target[f"{conv1}.weight"] = flat["c1"][:, :9].reshape(8, 1, 3, 3)
            target[f"{conv1}.bias"] = flat["c1"][:, 9]
            target[f"{conv2}.weight"] = flat["c2"][:, :72].reshape(16, 8, 3, 3)
            target[f"{conv2}.bias"] = flat["c2"][:, 72]
            target[f"{fc}.weight"] = flat["fc"][:, :784]
            target[f"{fc}.bias"] = flat["fc"][:, 784]
            if batchnorm:
                target["1.weight"], target["1.bias"] = flat["bn1w"], flat["bn1b"]
                target["5.weight"], target["5.bias"] = flat["bn2w"], flat["bn2b"]
        for key, value in workload["params"].items():
            np.copyto(self.params[key], value)
        m1, m2 = 4 * 14 * 14 * n, 4 * 7 * 7 * n  # conv output columns
        if batchnorm:
            buf, eps, bn_mom = workload["buffers"], workload["bn_eps"], workload["bn_momentum"]
            self.bn1 = BatchNormState(buf["1.running_mean"], buf["1.running_var"], eps, bn_mom, m1)
            self.bn2 = BatchNormState(buf["5.running_mean"], buf["5.running_var"], eps, bn_mom, m2)
        self.y, self.col, self.n = workload["y"], np.arange(n), n

        # conv1: x (N, 1, 28, 28) -> padded (1, 30, 30, N) -> col1 (9 taps + ones, m1)
        self.x_chwn = x[:, 0].transpose(1, 2, 0)
        self.xp1 = np.zeros((1, 30, 30, n), dt)
        self.col1 = np.ones((10, m1), dt)
        self.col1_taps = self.col1[:9].reshape(1, 3, 3, 2, 2, 2, 2, 7, 7, n)
        self.z1 = np.empty((8, m1), dt)
        self.y1 = np.empty_like(self.z1) if batchnorm else self.z1
        self.pool1 = pool_buffers((8, 2, 2, 7, 7, n), dt)
        # conv2: pooled (8, 14, 14, N) lands in the phase-split padded xs2 -> col2 (72 + ones, m2)
        self.xs2 = np.zeros((8, 2, 2, 8, 8, n), dt)
        self.col2 = np.ones((73, m2), dt)
        col2_taps = self.col2[:72].reshape(8, 3, 3, 2, 2, 7, 7, n)
        self.im2col2 = [
            (col2_taps[:, i, j], phase_split_view(self.xs2, i, j, writeable=False))
            for i in range(3)
            for j in range(3)
        ]
        self.z2 = np.empty((16, m2), dt)
        self.y2 = np.empty_like(self.z2) if batchnorm else self.z2
        self.pool2 = pool_buffers((16, 7 * 7 * n), dt)
        # classifier input: rows in PyTorch's flatten order (C, H, W), plus a ones row
        self.flat = np.ones((785, n), dt)
        self.logits = np.empty((10, n), dt)
        self.d_logits = np.empty((10, n), dt)
        self.d_flat = np.empty((784, n), dt)
        self.d_z2 = np.empty_like(self.z2)
        self.d_col2 = np.empty((72, m2), dt)
        # col2im: the centre tap covers the whole interior, so it is copied and the rest added
        # (the border of d_xs2 collects garbage nobody reads).
        self.d_xs2 = np.zeros_like(self.xs2)
        d_col2_taps = self.d_col2.reshape(8, 3, 3, 2, 2, 7, 7, n)
        self.col2im = [
            (phase_split_view(self.d_xs2, i, j, writeable=True), d_col2_taps[:, i, j])
            for i, j in [(1, 1), *((i, j) for i in range(3) for j in range(3) if (i, j) != (1, 1))]
        ]
        self.d_z1 = np.empty_like(self.z1)
        self.col1_source = conv1_window_view(self.xp1)
        # pooling: conv outputs as (C, 4 window members, *pooled shape), and where pooled goes
        self.y1_windows = self.y1.reshape(8, 4, 2, 2, 7, 7, n)
        self.d_z1_windows = self.d_z1.reshape(8, 4, 2, 2, 7, 7, n)
        self.pooled1 = phase_split_view(self.xs2, 1, 1, writeable=True)
        self.d_pooled1 = phase_split_view(self.d_xs2, 1, 1, writeable=False)
        self.y2_windows = self.y2.reshape(16, 4, 49 * n)
        self.d_z2_windows = self.d_z2.reshape(16, 4, 49 * n)
        self.pooled2 = self.flat[:784].reshape(16, 49 * n)
        self.d_pooled2 = self.d_flat.reshape(16, 49 * n)

    def forward_backward(self, grad_scale: float = 1.0) -> float:
        """Loss of the current weights; ``grad_scale`` times the gradients into ``self.grads``."""
        p, g = self.fp.p, self.fp.g
        np.copyto(self.xp1[0, 1:29, 1:29], self.x_chwn)
        np.copyto(self.col1_taps, self.col1_source)
        np.matmul(p["c1"], self.col1, out=self.z1)
        if self.batchnorm:
            bn_forward(self.z1, p["bn1w"], p["bn1b"], self.y1, self.bn1)
        pool_forward(self.y1_windows, self.pooled1, self.pool1)
        for target, source in self.im2col2:
            np.copyto(target, source)
        np.matmul(p["c2"], self.col2, out=self.z2)
        if self.batchnorm:
            bn_forward(self.z2, p["bn2w"], p["bn2b"], self.y2, self.bn2)
        pool_forward(self.y2_windows, self.pooled2, self.pool2)
        np.matmul(p["fc"], self.flat, out=self.logits)
        loss = softmax_xent(self.logits, self.y, self.d_logits, self.col, grad_scale)

        np.matmul(self.d_logits, self.flat.T, out=g["fc"])
        np.matmul(p["fc"][:, :784].T, self.d_logits, out=self.d_flat)
        pool_backward(self.d_pooled2, self.d_z2_windows, self.pool2)
        if self.batchnorm:
            bn_backward(self.d_z2, self.z2, g["bn2w"], g["bn2b"], self.bn2)
        np.matmul(self.d_z2, self.col2.T, out=g["c2"])
        np.matmul(p["c2"][:, :72].T, self.d_z2, out=self.d_col2)
        (target, source), *rest = self.col2im
        np.copyto(target, source)
        for target, source in rest:
            np.add(target, source, out=target)
        pool_backward(self.d_pooled1, self.d_z1_windows, self.pool1)
        if self.batchnorm:
            bn_backward(self.d_z1, self.z1, g["bn1w"], g["bn1b"], self.bn1)
        np.matmul(self.d_z1, self.col1.T, out=g["c1"])
        return loss

    def buffers(self) -> dict[str, np.ndarray]:
        """BatchNorm running statistics by PyTorch name (W3 only)."""
        if not self.batchnorm:
            return {}
        return {
            "1.running_mean": self.bn1.running_mean.copy(),
            "1.running_var": self.bn1.running_var.copy(),
            "5.running_mean": self.bn2.running_mean.copy(),
            "5.running_var": self.bn2.running_var.copy(),
        }


def build(name: str, workload: dict[str, Any]) -> FloorRunner:
    """The floor's runner for workload ``name``, starting from ``workload``'s weights and batch.

    ``step()`` trains one step and returns its loss; ``gradients()`` returns the gradients of the
    current weights by PyTorch parameter name, without updating. The dtype is ``workload["x"]``'s.

    Example:
        >>> from benchmarks.workloads import make_workload
        >>> build("W1", make_workload("W1")).step() > 0
        True
    """
    if name == "W1":
        return MLPFloor(workload)
    if name in ("W2", "W3"):
        return CNNFloor(workload, batchnorm=name == "W3")
    if name in ("W4", "W5", "MLP"):  # written later, in their own module (which imports this one)
        from benchmarks import reference_numpy_mnist

        return reference_numpy_mnist.build(name, workload)
    raise ValueError(f"unknown workload {name!r}")


def version() -> str:
    """NumPy's version (the floor has none of its own)."""
    return f"NumPy {np.__version__}"
