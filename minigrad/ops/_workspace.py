"""Reusable buffers for the large arrays of the image ops: a small caching allocator.

A training step allocates the same big arrays (im2col columns, activations, their gradients)
every time and frees them at the end. glibc hands memory of that size back to the operating
system when it is freed, so every step page-faults it in again: measured here, about a third of
a CNN step went to minor page faults. Instead of changing ``malloc``'s behaviour for the whole
process, these ops take their large arrays from this cache, which keeps freed buffers and hands
them out again.

A buffer is free again when nothing outside the cache refers to it: not a tensor, not a view,
not a saved array of a graph node. That is read from its reference count, so no one has to give
buffers back. The cache keeps at most ``LIMIT_BYTES`` (least recently used shapes go first) and
is per thread.
"""

from __future__ import annotations

import math
import sys
import threading
from collections import OrderedDict

import numpy as np

LIMIT_BYTES = 512 * 2**20
MIN_BYTES = 64 * 2**10  # smaller arrays are cheap to allocate: not worth tracking

# References an idle buffer has: the cache's list, the loop variable, getrefcount's argument.
_IDLE_REFS = 3


class _Cache(threading.local):
    def __init__(self) -> None:
        self.buffers: OrderedDict[tuple, list[np.ndarray]] = OrderedDict()
        self.nbytes = 0


_cache = _Cache()


def empty(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialized C-contiguous array, reused from the cache when one is free."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    key = (tuple(shape), dtype.str)
    pool = _cache.buffers.get(key)
    if pool is None:
        pool = _cache.buffers[key] = []
    else:
        _cache.buffers.move_to_end(key)
        for buffer in pool:
            if sys.getrefcount(buffer) == _IDLE_REFS:
                return buffer
    buffer = np.empty(shape, dtype)
    if _make_room(nbytes):
        pool.append(buffer)
        _cache.nbytes += nbytes
    return buffer


def zeros(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A zero-filled C-contiguous array, reused from the cache when one is free."""
    buffer = empty(shape, dtype)
    buffer.fill(0)
    return buffer


def empty_like(x: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    """An uninitialized array shaped like ``x`` and laid out in memory like ``x`` (so
    elementwise ops between them sweep memory in order), reused from the cache when free."""
    if x.ndim < 2 or x.flags.c_contiguous:
        return empty(x.shape, dtype or x.dtype)
    return empty_ordered(x.shape, memory_order(x), dtype or x.dtype)


def empty_ordered(shape: tuple[int, ...], order: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialized array of ``shape`` whose axes lie in memory in ``order`` (outermost
    first), reused from the cache when free."""
    base = empty(tuple(shape[a] for a in order), dtype)
    return base.transpose(sorted(range(len(shape)), key=order.__getitem__))


def laid_out_like(x: np.ndarray, template: np.ndarray) -> np.ndarray:
    """``x`` itself if it is stored in the same axis order as ``template``, else a copy that
    is. Elementwise ops over arrays stored in different orders are many times slower than the
    copy, so rules align an incoming gradient with what they saved before using it."""
    if x.ndim < 2 or memory_order(x) == memory_order(template):
        return x
    out = empty_like(template, x.dtype)
    np.copyto(out, x)
    return out


def memory_order(x: np.ndarray) -> tuple[int, ...]:
    """The axes from the largest stride to the smallest (ties keep axis order): the order in
    which ``x`` is laid out in memory."""
    strides = x.strides
    return tuple(sorted(range(x.ndim), key=lambda a: -abs(strides[a])))


def _make_room(nbytes: int) -> bool:
    """Evict idle buffers of the least recently used shapes until ``nbytes`` more fit."""
    if nbytes > LIMIT_BYTES:
        return False
    for key in list(_cache.buffers):
        if _cache.nbytes + nbytes <= LIMIT_BYTES:
            break
        pool = _cache.buffers[key]
        for buffer in list(pool):
            if sys.getrefcount(buffer) == _IDLE_REFS + 1:  # + the list() copy's reference
                pool.remove(buffer)
                _cache.nbytes -= buffer.nbytes
        if not pool:
            del _cache.buffers[key]
    return _cache.nbytes + nbytes <= LIMIT_BYTES


def clear() -> None:
    """Forget every cached buffer (buffers still in use stay valid; they are simply not reused).

    Example:
        >>> clear()
    """
    _cache.buffers.clear()
    _cache.nbytes = 0
