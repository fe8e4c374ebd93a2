"""The fast tier's memory layout: images stored batch-last, and the one alignment helper.

Image tensors are ``(N, C, H, W)`` in shape everywhere, but the arrays the fast kernels make keep
the batch axis innermost in memory (``C, H, W, N``), exposed as a transposed view. In that
layout every shifted slice that im2col, col2im and pooling touch is made of contiguous runs of
``W * N`` numbers instead of runs of ``W``, the convolution's matrix product comes out already in
place, and batchnorm's per-channel rows are contiguous. Elementwise NumPy operations keep their
input's layout, so a CNN's activations stay batch-last from the first convolution to ``Flatten``,
and their gradients come back batch-last too.

Fast kernels never assume a layout: each passes what it receives through :func:`aligned`, which
returns the array itself when it is already laid out as asked and a copy otherwise. That copy is
the only relayout in the fast tier; :func:`recording` lists them (the layout test does).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad._kernels import workspace

# axis order, outermost first, of an (N, C, H, W) image stored batch-last: (C, H, W, N)
BATCH_LAST = (1, 2, 3, 0)

_log: list[tuple[tuple[int, ...], tuple[int, ...]]] | None = None


def batch_last_order(ndim: int) -> tuple[int, ...]:
    """The memory order, outermost axis first, of an ``(N, ...)`` array stored batch-last."""
    return (*range(1, ndim), 0)


def memory_order(x: np.ndarray) -> tuple[int, ...]:
    """The axes from the largest stride to the smallest (ties keep axis order): the order in
    which ``x`` is laid out in memory."""
    strides = x.strides
    return tuple(sorted(range(x.ndim), key=lambda a: -abs(strides[a])))


def empty_ordered(shape: tuple[int, ...], order: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialized array of ``shape`` whose axes lie in memory in ``order`` (outermost
    first), from the workspace cache."""
    memory = workspace.empty(tuple(shape[a] for a in order), dtype)
    return memory.transpose(sorted(range(len(shape)), key=order.__getitem__))


def empty_like(x: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    """An uninitialized array shaped and laid out like ``x``, from the workspace cache (so
    elementwise work between the two sweeps memory in order)."""
    if x.ndim < 2 or x.flags.c_contiguous:
        return workspace.empty(x.shape, dtype or x.dtype)
    return empty_ordered(x.shape, memory_order(x), dtype or x.dtype)


def batch_last(shape: tuple[int, ...], dtype: np.dtype, fill: float | None = None) -> np.ndarray:
    """A new ``(N, C, H, W)`` array stored batch-last, optionally filled with ``fill``."""
    out = empty_ordered(shape, BATCH_LAST, dtype)
    if fill is not None:
        out.fill(fill)
    return out


def in_order(x: np.ndarray, order: tuple[int, ...]) -> bool:
    """Whether the axes of ``x`` lie in memory in ``order``, outermost first: strides never
    grow along ``order`` (size-1 axes, whose stride means nothing, are skipped). A crop of an
    array keeps its order, with gaps."""
    shape, strides, previous = x.shape, x.strides, None
    for axis in order:
        if shape[axis] != 1:
            stride = abs(strides[axis])
            if previous is not None and stride > previous:
                return False
            previous = stride
    return True


def aligned(x: np.ndarray, order: tuple[int, ...], contiguous: bool = False) -> np.ndarray:
    """``x`` itself if its axes lie in memory in ``order`` (outermost first) and, when asked,
    without gaps; else a copy that does: the one place where the fast tier changes an array's
    layout. Elementwise work needs only the order; a kernel that reshapes the array into a
    matrix needs it ``contiguous`` too (or NumPy would copy inside the reshape)."""
    if x.transpose(order).flags.c_contiguous if contiguous else in_order(x, order):
        return x
    if _log is not None:
        _log.append((x.shape, order))
    out = empty_ordered(x.shape, order, x.dtype)
    np.copyto(out, x)
    return out


@contextmanager
def recording() -> Iterator[list[tuple[tuple[int, ...], tuple[int, ...]]]]:
    """Within the block, list every copy :func:`aligned` makes as ``(shape, order)``."""
    global _log
    previous, _log = _log, []
    try:
        yield _log
    finally:
        _log = previous


def padded(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """``x (N, C, H, W)`` surrounded by ``value`` on its last two axes, stored batch-last
    (``x`` itself, aligned, when there is no padding)."""
    ph, pw = padding
    if not ph and not pw:
        return aligned(x, BATCH_LAST, contiguous=True)
    n, c, h, w = x.shape
    xp = batch_last((n, c, h + 2 * ph, w + 2 * pw), x.dtype, fill=value)
    xp[:, :, ph : ph + h, pw : pw + w] = x
    return xp


def windows(
    xp: np.ndarray,
    kernel: tuple[int, int],
    out_hw: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> np.ndarray:
    """A read-only strided view ``(C, KH, KW, OH, OW, N)`` of every receptive field of the
    batch-last ``xp``; copying it gives the column matrix ``(C*KH*KW, OH*OW*N)``."""
    sn, sc, sh, sw = xp.strides
    n, c = xp.shape[:2]
    return as_strided(
        xp,
        shape=(c, *kernel, *out_hw, n),
        strides=(sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1], sn),
        writeable=False,
    )


def shifted_slices(
    kernel: tuple[int, int],
    out_hw: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> list[tuple[int, int, slice, slice]]:
    """For each kernel offset ``(i, j)``, the slices of the padded input's H and W it reads."""
    (kh, kw), (oh, ow), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    return [
        (
            i,
            j,
            slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw),
        )
        for i in range(kh)
        for j in range(kw)
    ]
