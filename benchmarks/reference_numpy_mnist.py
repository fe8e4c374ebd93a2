"""The floor for W4 (LeNet-5), W5 (PyTorch's MNIST example) and the scaling study's MLPs.

Hand-written, straight-line NumPy training steps in the style of :mod:`benchmarks.reference_numpy`
(whose ``FlatParams``, ``softmax_xent`` and ``FloorRunner`` they share): no autograd, every buffer
allocated once, each step writing into it with ``out=``, feature-major activations ``(features,
N)`` and images ``C, H, W, N``, biases riding in the GEMMs as an extra weight column against a
ones row, parameters, gradients and momentum in three flat arrays, backward from ``lr * d loss``.
What differs, because these networks are larger:

* A conv's output columns are ordered ``(hp, h2, w, n)``, output row ``h = 2*h2 + hp``: only
  the rows are split by parity. Each im2col copy then moves runs of ``OW*N`` floats (one call
  for all taps), and 2x2 max-pooling compares the two columns of a window (runs of N), then
  the two halves ``hp = 0, 1`` (contiguous blocks). Splitting the columns by parity too, as the
  W2 floor does, would cut the im2col runs to N floats, which costs more than it saves on W5's
  42 MB im2col matrix.
* ``pool(relu(z)) == relu(pool(z))``, so ReLU runs on the pooled tensor and its mask is folded
  into the pooling masks; a tie goes to the window's first maximum in scan order, as PyTorch's.
* Buffers are reused once their contents are dead: a conv's output gradient overwrites its
  output (pooling keeps its masks apart), and the im2col matrix's gradient overwrites the
  im2col matrix after the weight gradient has read it. col2im copies the first tap and adds
  the others, zeroing only the strips the first tap does not cover.
* W5's dropout multiplies by the workload's mask for the step (``masks[key][k % P]``), stored
  feature-major at build time; ``step()`` moves to the next mask after the update.
* ``infer()`` is the forward in evaluation mode (no masks kept, no dropout), for the
  evaluation-throughput benchmark.

The MLP floor is the W1 floor's code generalised to any widths and depths (one loop over the
layers); on W1's sizes its losses equal the W1 floor's bit for bit.

Example:
    >>> from benchmarks.workloads import make_workload
    >>> runner = build("W4", make_workload("W4", batch=4))
    >>> loss = runner.step()
    >>> runner.infer().shape
    (4, 10)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from benchmarks.reference_numpy import FlatParams, FloorRunner, softmax_xent


def named_views(
    fp: FlatParams, layers: list[tuple[int, str, tuple[int, ...]]]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """PyTorch-named views of weights and gradients whose bias is the last column of a block.

    ``layers`` lists (Sequential index, block name, weight shape).
    """
    params, grads = {}, {}
    for index, block, shape in layers:
        for target, flat in ((params, fp.p), (grads, fp.g)):
            target[f"{index}.weight"] = flat[block][:, :-1].reshape(shape)
            target[f"{index}.bias"] = flat[block][:, -1]
    return params, grads


def relu_backward(grad: np.ndarray, h: np.ndarray, mask: np.ndarray) -> None:
    """``grad *= h > 0`` in place, through the bool buffer ``mask``."""
    np.greater(h, 0, out=mask)
    np.multiply(grad, mask, out=grad)


def im2col_view(image: np.ndarray, k: int, out_h: int, out_w: int, split: bool) -> np.ndarray:
    """Read-only view of ``image`` (C, H, W, N) as the taps of a stride-1 k x k conv.

    ``split``: shape ``(C, k, k, 2, out_h // 2, out_w * N)``, element ``[c, i, j, hp, h2, w*N +
    n]`` is ``image[c, 2*h2 + hp + i, w + j, n]`` (output rows split by parity); else ``(C, k, k,
    out_h, out_w * N)``. The last axis merges ``w`` and ``n``: one contiguous run per row.
    """
    c, _, _, n = image.shape
    s_c, s_h, s_w, s_n = image.strides
    if s_w != n * s_n:
        raise ValueError("im2col_view needs the image's W and N axes contiguous")
    if split:
        shape: tuple[int, ...] = (c, k, k, 2, out_h // 2, out_w * n)
        strides: tuple[int, ...] = (s_c, s_h, s_w, s_h, 2 * s_h, s_n)
    else:
        shape, strides = (c, k, k, out_h, out_w * n), (s_c, s_h, s_w, s_h, s_n)
    return as_strided(image, shape, strides, writeable=False)


def col2im_plan(
    d_cols: np.ndarray, d_image: np.ndarray, k: int, out_h: int, out_w: int, split: bool
) -> tuple[list[np.ndarray], list[tuple[np.ndarray, np.ndarray]]]:
    """The strips of ``d_image`` tap (0, 0) misses, and (target, source) pairs per tap, (0, 0)
    first: what :func:`col2im` runs to sum the im2col gradient ``d_cols`` (C*k*k, M) back
    into ``d_image`` (C, H, W, N). Within one tap the targets do not overlap."""
    c, _, _, n = d_image.shape
    rows = (2, out_h // 2) if split else (out_h,)
    taps = d_cols.reshape(c, k, k, *rows, out_w, n)
    pairs = []
    for i in range(k):
        for j in range(k):
            target = d_image[:, i : i + out_h, j : j + out_w]
            if split:  # rows 2*h2 + hp as (hp, h2)
                target = target.reshape(c, out_h // 2, 2, out_w, n).transpose(0, 2, 1, 3, 4)
            pairs.append((target, taps[:, i, j]))
    strips = [d_image[:, out_h:], d_image[:, :out_h, out_w:]]
    return [s for s in strips if s.size], pairs


def col2im(plan: tuple[list[np.ndarray], list[tuple[np.ndarray, np.ndarray]]]) -> None:
    """Runs a :func:`col2im_plan`."""
    strips, ((target, source), *rest) = plan
    for strip in strips:
        strip.fill(0)
    np.copyto(target, source)
    for target, source in rest:
        np.add(target, source, out=target)


def pool_buffers(shape: tuple[int, ...], dt: np.dtype) -> dict[str, np.ndarray]:
    """Scratch and masks of one 2x2 pooling layer whose output has ``shape`` (C, H2, W2, N)."""
    halves = (shape[0], 2, *shape[1:])
    return {
        "best": np.empty(halves, dt),
        "pos": np.empty(shape, bool),
        "right": np.empty(halves, bool),
        "select": np.empty(halves, bool),
    }


def pool_forward(
    pairs: np.ndarray, out: np.ndarray, bufs: dict[str, np.ndarray], train: bool = True
) -> None:
    """``out = relu(maxpool2x2(z))`` with ``pairs`` (C, 2, H2, W2, 2, N) the conv output ``z``
    whose element ``[c, hp, h2, w2, wp, n]`` is ``z[c, 2*h2 + hp, 2*w2 + wp, n]``.

    First the left and right column of each window row (``right``: the right one is larger),
    then the upper and lower row's best (``select[:, 1]``: the window's first maximum is in
    the lower row and positive, ``select[:, 0]``: in the upper row and positive). Strict
    comparisons send a tie to the first maximum in scan order. ``train=False`` keeps no masks.
    """
    best = bufs["best"]
    left, right = pairs[..., 0, :], pairs[..., 1, :]
    if train:
        np.greater(right, left, out=bufs["right"])
    np.maximum(left, right, out=best)
    if train:
        select, pos = bufs["select"], bufs["pos"]
        np.greater(best[:, 1], best[:, 0], out=select[:, 1])
    np.maximum(best[:, 0], best[:, 1], out=best[:, 0])
    np.maximum(best[:, 0], 0, out=out)
    if train:
        np.greater(best[:, 0], 0, out=pos)
        np.greater(pos, select[:, 1], out=select[:, 0])
        np.logical_and(select[:, 1], pos, out=select[:, 1])


def pool_backward(grad: np.ndarray, grad_pairs: np.ndarray, bufs: dict[str, np.ndarray]) -> None:
    """Routes ``grad`` (C, H2, W2, N) of relu(maxpool(z)) to ``grad_pairs``, the gradient of
    ``z`` in :func:`pool_forward`'s ``pairs`` layout: each window's first maximum, if positive."""
    left, right = grad_pairs[..., 0, :], grad_pairs[..., 1, :]
    np.multiply(grad[:, None], bufs["select"], out=left)
    np.multiply(left, bufs["right"], out=right)
    np.subtract(left, right, out=left)


class LeNetFloor(FloorRunner):
    """W4: conv 6@5x5 pad 2, relu, pool, conv 16@5x5, relu, pool, 400-120-84-10 with ReLU."""

    def __init__(self, workload: dict[str, Any]) -> None:
        x, dt = workload["x"], workload["x"].dtype
        n = x.shape[0]
        self.lr, self.momentum = workload["lr"], workload["momentum"]
        self.fp = FlatParams(
            {"c1": (6, 26), "c2": (16, 151), "f1": (120, 401), "f2": (84, 121), "f3": (10, 85)},
            dt,
        )
        self.params, self.grads = named_views(
            self.fp,
            [
                (0, "c1", (6, 1, 5, 5)),
                (3, "c2", (16, 6, 5, 5)),
                (7, "f1", (120, 400)),
                (9, "f2", (84, 120)),
                (11, "f3", (10, 84)),
            ],
        )
        for key, value in workload["params"].items():
            np.copyto(self.params[key], value)
        self.y, self.col = workload["y"], np.arange(n)

        # conv1: x -> padded (1, 32, 32, N) -> col1 (25 taps + ones, 28*28*N) -> z1 (6, ...)
        self.x_hwn = x[:, 0].transpose(1, 2, 0)
        self.xp1 = np.zeros((1, 32, 32, n), dt)
        self.col1 = np.ones((26, 28 * 28 * n), dt)
        self.col1_taps = self.col1[:25].reshape(1, 5, 5, 2, 14, 28 * n)
        self.col1_source = im2col_view(self.xp1, 5, 28, 28, split=True)
        self.z1 = np.empty((6, 28 * 28 * n), dt)  # later its gradient
        self.z1_pairs = self.z1.reshape(6, 2, 14, 14, 2, n)
        self.pooled1 = np.empty((6, 14, 14, n), dt)
        self.pool1 = pool_buffers(self.pooled1.shape, dt)
        # conv2: pooled1 -> col2 (150 taps + ones, 10*10*N) -> z2 (16, ...) -> pooled into flat
        self.col2 = np.ones((151, 10 * 10 * n), dt)  # later its gradient, in rows 0..149
        self.col2_taps = self.col2[:150].reshape(6, 5, 5, 2, 5, 10 * n)
        self.col2_source = im2col_view(self.pooled1, 5, 10, 10, split=True)
        self.z2 = np.empty((16, 10 * 10 * n), dt)  # later its gradient
        self.z2_pairs = self.z2.reshape(16, 2, 5, 5, 2, n)
        self.flat = np.ones((401, n), dt)  # rows in PyTorch's flatten order (C, H, W), ones
        self.pooled2 = self.flat[:400].reshape(16, 5, 5, n)
        self.pool2 = pool_buffers(self.pooled2.shape, dt)
        self.a1 = np.ones((121, n), dt)
        self.a2 = np.ones((85, n), dt)
        self.logits = np.empty((10, n), dt)
        self.d_logits = np.empty((10, n), dt)
        self.d_a2 = np.empty((84, n), dt)
        self.d_a1 = np.empty((120, n), dt)
        self.mask_a2 = np.empty((84, n), bool)
        self.mask_a1 = np.empty((120, n), bool)
        self.d_flat = np.empty((400, n), dt)
        self.d_pooled2 = self.d_flat.reshape(16, 5, 5, n)
        self.d_pooled1 = np.empty_like(self.pooled1)
        self.col2im2 = col2im_plan(self.col2[:150], self.d_pooled1, 5, 10, 10, split=True)

    def forward(self, train: bool = True) -> np.ndarray:
        """The logits (10, N); ``train`` keeps what backward needs."""
        p = self.fp.p
        a1, a2 = self.a1[:120], self.a2[:84]
        np.copyto(self.xp1[0, 2:30, 2:30], self.x_hwn)
        np.copyto(self.col1_taps, self.col1_source)
        np.matmul(p["c1"], self.col1, out=self.z1)
        pool_forward(self.z1_pairs, self.pooled1, self.pool1, train)
        np.copyto(self.col2_taps, self.col2_source)
        np.matmul(p["c2"], self.col2, out=self.z2)
        pool_forward(self.z2_pairs, self.pooled2, self.pool2, train)
        np.matmul(p["f1"], self.flat, out=a1)
        np.maximum(a1, 0, out=a1)
        np.matmul(p["f2"], self.a1, out=a2)
        np.maximum(a2, 0, out=a2)
        np.matmul(p["f3"], self.a2, out=self.logits)
        return self.logits

    def backward(self) -> None:
        """Gradients into ``self.fp.g`` from ``self.d_logits``."""
        p, g = self.fp.p, self.fp.g
        np.matmul(self.d_logits, self.a2.T, out=g["f3"])
        np.matmul(p["f3"][:, :84].T, self.d_logits, out=self.d_a2)
        relu_backward(self.d_a2, self.a2[:84], self.mask_a2)
        np.matmul(self.d_a2, self.a1.T, out=g["f2"])
        np.matmul(p["f2"][:, :120].T, self.d_a2, out=self.d_a1)
        relu_backward(self.d_a1, self.a1[:120], self.mask_a1)
        np.matmul(self.d_a1, self.flat.T, out=g["f1"])
        np.matmul(p["f1"][:, :400].T, self.d_a1, out=self.d_flat)
        pool_backward(self.d_pooled2, self.z2_pairs, self.pool2)
        np.matmul(self.z2, self.col2.T, out=g["c2"])
        np.matmul(p["c2"][:, :150].T, self.z2, out=self.col2[:150])
        col2im(self.col2im2)
        pool_backward(self.d_pooled1, self.z1_pairs, self.pool1)
        np.matmul(self.z1, self.col1.T, out=g["c1"])

    def forward_backward(self, grad_scale: float = 1.0) -> float:
        """Loss of the current weights; ``grad_scale`` times the gradients into ``self.grads``."""
        loss = softmax_xent(self.forward(), self.y, self.d_logits, self.col, grad_scale)
        self.backward()
        return loss

    def infer(self) -> np.ndarray:
        """Evaluation-mode logits (N, 10)."""
        return self.forward(train=False).T


class MNISTNetFloor(FloorRunner):
    """W5: conv 32@3x3, relu, conv 64@3x3, relu, pool, dropout, 9216-128, relu, dropout, 10."""

    def __init__(self, workload: dict[str, Any]) -> None:
        x, dt = workload["x"], workload["x"].dtype
        n = x.shape[0]
        self.lr, self.momentum = workload["lr"], workload["momentum"]
        self.fp = FlatParams(
            {"c1": (32, 10), "c2": (64, 289), "f1": (128, 9217), "f2": (10, 129)}, dt
        )
        self.params, self.grads = named_views(
            self.fp,
            [
                (0, "c1", (32, 1, 3, 3)),
                (2, "c2", (64, 32, 3, 3)),
                (7, "f1", (128, 9216)),
                (10, "f2", (10, 128)),
            ],
        )
        for key, value in workload["params"].items():
            np.copyto(self.params[key], value)
        self.y, self.col = workload["y"], np.arange(n)
        # dropout masks, feature-major: drop1 (P, 9216, N) after pooling, drop2 (P, 128, N)
        masks = workload["masks"]
        self.drop1 = np.ascontiguousarray(masks["5"].reshape(-1, n, 9216).transpose(0, 2, 1))
        self.drop2 = np.ascontiguousarray(masks["9"].transpose(0, 2, 1))
        self.mask_step = 0

        # conv1: x (1, 28, 28, N) -> col1 (9 taps + ones, 26*26*N) -> h1 = relu(z1) (32, 26, 26, N)
        self.x_hwn = x[:, 0].transpose(1, 2, 0)
        self.x1 = np.empty((1, 28, 28, n), dt)
        self.col1 = np.ones((10, 26 * 26 * n), dt)
        self.col1_taps = self.col1[:9].reshape(1, 3, 3, 26, 26 * n)
        self.col1_source = im2col_view(self.x1, 3, 26, 26, split=False)
        self.h1 = np.empty((32, 26, 26, n), dt)
        self.h1_cols = self.h1.reshape(32, -1)
        # conv2: h1 -> col2 (288 taps + ones, 24*24*N) -> z2 (64, ...) -> pooled into flat
        self.col2 = np.ones((289, 24 * 24 * n), dt)  # later its gradient, in rows 0..287
        self.col2_taps = self.col2[:288].reshape(32, 3, 3, 2, 12, 24 * n)
        self.col2_source = im2col_view(self.h1, 3, 24, 24, split=True)
        self.z2 = np.empty((64, 24 * 24 * n), dt)  # later its gradient
        self.z2_pairs = self.z2.reshape(64, 2, 12, 12, 2, n)
        self.flat = np.ones((9217, n), dt)  # rows in PyTorch's flatten order (C, H, W), ones
        self.pooled = self.flat[:9216].reshape(64, 12, 12, n)
        self.pool = pool_buffers(self.pooled.shape, dt)
        self.a1 = np.empty((128, n), dt)
        self.h = np.ones((129, n), dt)  # dropout(relu(a1)), ones
        self.logits = np.empty((10, n), dt)
        self.d_logits = np.empty((10, n), dt)
        self.d_a1 = np.empty((128, n), dt)
        self.mask_a1 = np.empty((128, n), bool)
        self.d_flat = np.empty((9216, n), dt)
        self.d_pooled = self.d_flat.reshape(64, 12, 12, n)
        self.d_h1 = np.empty_like(self.h1)
        self.d_h1_cols = self.d_h1.reshape(32, -1)
        self.mask_h1 = np.empty(self.h1_cols.shape, bool)
        self.col2im2 = col2im_plan(self.col2[:288], self.d_h1, 3, 24, 24, split=True)

    def forward(self, train: bool = True) -> np.ndarray:
        """The logits (10, N) (the model's log-softmax input); ``train`` applies dropout and
        keeps what backward needs."""
        p, k = self.fp.p, self.mask_step % len(self.drop1)
        flat, h = self.flat[:9216], self.h[:128]
        np.copyto(self.x1[0], self.x_hwn)
        np.copyto(self.col1_taps, self.col1_source)
        np.matmul(p["c1"], self.col1, out=self.h1_cols)
        np.maximum(self.h1_cols, 0, out=self.h1_cols)
        np.copyto(self.col2_taps, self.col2_source)
        np.matmul(p["c2"], self.col2, out=self.z2)
        pool_forward(self.z2_pairs, self.pooled, self.pool, train)
        if train:
            np.multiply(flat, self.drop1[k], out=flat)
        np.matmul(p["f1"], self.flat, out=self.a1)
        np.maximum(self.a1, 0, out=h)
        if train:
            np.multiply(h, self.drop2[k], out=h)
        np.matmul(p["f2"], self.h, out=self.logits)
        return self.logits

    def backward(self) -> None:
        """Gradients into ``self.fp.g`` from ``self.d_logits``."""
        p, g, k = self.fp.p, self.fp.g, self.mask_step % len(self.drop1)
        np.matmul(self.d_logits, self.h.T, out=g["f2"])
        np.matmul(p["f2"][:, :128].T, self.d_logits, out=self.d_a1)
        np.multiply(self.d_a1, self.drop2[k], out=self.d_a1)
        relu_backward(self.d_a1, self.a1, self.mask_a1)
        np.matmul(self.d_a1, self.flat.T, out=g["f1"])
        np.matmul(p["f1"][:, :9216].T, self.d_a1, out=self.d_flat)
        np.multiply(self.d_flat, self.drop1[k], out=self.d_flat)
        pool_backward(self.d_pooled, self.z2_pairs, self.pool)
        np.matmul(self.z2, self.col2.T, out=g["c2"])
        np.matmul(p["c2"][:, :288].T, self.z2, out=self.col2[:288])
        col2im(self.col2im2)
        relu_backward(self.d_h1_cols, self.h1_cols, self.mask_h1)
        np.matmul(self.d_h1_cols, self.col1.T, out=g["c1"])

    def forward_backward(self, grad_scale: float = 1.0) -> float:
        """Loss of the current weights; ``grad_scale`` times the gradients into ``self.grads``."""
        loss = softmax_xent(self.forward(), self.y, self.d_logits, self.col, grad_scale)
        self.backward()
        return loss

    def step(self) -> float:
        """One training step with this step's dropout masks; returns its loss."""
        loss = super().step()
        self.mask_step += 1
        return loss

    def infer(self) -> np.ndarray:
        """Evaluation-mode outputs (N, 10): the logits, whose log-softmax the model returns."""
        return self.forward(train=False).T


class MLPStackFloor(FloorRunner):
    """The scaling study's MLP (``workload["sizes"]``), the W1 floor's code for any widths."""

    def __init__(self, workload: dict[str, Any]) -> None:
        x, dt = workload["x"], workload["x"].dtype
        n = x.shape[0]
        sizes = workload["sizes"]
        self.lr, self.momentum = workload["lr"], workload["momentum"]
        self.layers = len(sizes) - 1
        # Layer 0 keeps a separate bias (its input is the caller's x, which has no ones row).
        blocks = {"w0": (sizes[1], sizes[0]), "b0": (sizes[1],)}
        blocks.update({f"w{i}": (sizes[i + 1], sizes[i] + 1) for i in range(1, self.layers)})
        self.fp = FlatParams(blocks, dt)
        self.params, self.grads = named_views(
            self.fp, [(2 * i, f"w{i}", (sizes[i + 1], sizes[i])) for i in range(1, self.layers)]
        )
        self.params.update({"0.weight": self.fp.p["w0"], "0.bias": self.fp.p["b0"]})
        self.grads.update({"0.weight": self.fp.g["w0"], "0.bias": self.fp.g["b0"]})
        for key, value in workload["params"].items():
            np.copyto(self.params[key], value)
        self.x, self.y, self.col = x, workload["y"], np.arange(n)
        # h[i]: relu of layer i (sizes[i + 1] rows) and a ones row
        self.h = [np.ones((size + 1, n), dt) for size in sizes[1:-1]]
        self.d_h = [np.empty((size, n), dt) for size in sizes[1:-1]]
        self.masks = [np.empty((size, n), bool) for size in sizes[1:-1]]
        self.logits = np.empty((sizes[-1], n), dt)
        self.d_logits = np.empty_like(self.logits)
        self.ones_n = np.ones(n, dt)

    def forward(self, train: bool = True) -> np.ndarray:
        """The logits (10, N) (an MLP keeps nothing extra for backward)."""
        p = self.fp.p
        h0 = self.h[0][:-1]
        np.matmul(p["w0"], self.x.T, out=h0)
        np.add(h0, p["b0"][:, None], out=h0)
        np.maximum(h0, 0, out=h0)
        for i in range(1, self.layers - 1):
            h = self.h[i][:-1]
            np.matmul(p[f"w{i}"], self.h[i - 1], out=h)
            np.maximum(h, 0, out=h)
        np.matmul(p[f"w{self.layers - 1}"], self.h[-1], out=self.logits)
        return self.logits

    def backward(self) -> None:
        """Gradients into ``self.fp.g`` from ``self.d_logits``."""
        p, g = self.fp.p, self.fp.g
        grad = self.d_logits
        for i in range(self.layers - 1, 0, -1):
            np.matmul(grad, self.h[i - 1].T, out=g[f"w{i}"])
            np.matmul(p[f"w{i}"][:, :-1].T, grad, out=self.d_h[i - 1])
            relu_backward(self.d_h[i - 1], self.h[i - 1][:-1], self.masks[i - 1])
            grad = self.d_h[i - 1]
        np.matmul(grad, self.x, out=g["w0"])
        np.matmul(grad, self.ones_n, out=g["b0"])

    def forward_backward(self, grad_scale: float = 1.0) -> float:
        """Loss of the current weights; ``grad_scale`` times the gradients into ``self.grads``."""
        loss = softmax_xent(self.forward(), self.y, self.d_logits, self.col, grad_scale)
        self.backward()
        return loss

    def infer(self) -> np.ndarray:
        """Evaluation-mode logits (N, 10)."""
        return self.forward(train=False).T


def build(name: str, workload: dict[str, Any]) -> FloorRunner:
    """The floor's runner for ``name`` ("W4", "W5" or "MLP"), from ``workload``'s weights and
    batch; see :func:`benchmarks.reference_numpy.build` for the runner's methods.

    Example:
        >>> from benchmarks.workloads import make_workload, mlp_sizes
        >>> build("MLP", make_workload("MLP", sizes=mlp_sizes(64, 3))).step() > 0
        True
    """
    if name == "W4":
        return LeNetFloor(workload)
    if name == "W5":
        return MNISTNetFloor(workload)
    if name == "MLP":
        return MLPStackFloor(workload)
    raise ValueError(f"unknown workload {name!r}")
