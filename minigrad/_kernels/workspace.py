"""Reusable buffers for the large arrays of the fast kernels: a small caching allocator.

A training step allocates the same big arrays (im2col columns, activations, their gradients)
every time and frees them at the end. glibc hands memory of that size back to the operating
system when it is freed, so every step page-faults it in again: measured here, about a third of
a CNN step went to minor page faults. Instead of changing ``malloc``'s behaviour for the whole
process, the fast kernels take their large arrays from this cache, which keeps freed memory and
hands it out again.

Safe by construction: each buffer is a view of a *lease*, a small ndarray subclass that owns a
block of raw memory while anything uses it. NumPy keeps the base of every view alive, and when
it shortens a chain of bases it stops at a change of type, so every array that reaches into a
block (views of views, reshapes, a tensor's data, a graph node's saved array) holds its lease.
The lease's ``__del__`` returns the block only when Python has freed the last of them: nothing
depends on reading reference counts, and a reference cycle can delay a return, never hasten it.

The cache keeps at most ``LIMIT_BYTES`` per thread (idle blocks of the least recently used
sizes go first); blocks are keyed by size in bytes, so arrays of any shape and dtype share them.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np

LIMIT_BYTES = 512 * 2**20
MIN_BYTES = 64 * 2**10  # smaller arrays are cheap to allocate: not worth keeping


class _Block(bytearray):
    """Raw memory for one buffer; knows the list of idle blocks it goes back to."""

    __slots__ = ("idle",)
    idle: list[_Block]


class _Lease(np.ndarray):
    """The array that owns a block while any view of it lives (see the module docstring)."""

    def __del__(self) -> None:
        block = self.base
        block.idle.append(block)


class _Cache(threading.local):
    def __init__(self) -> None:
        self.idle: OrderedDict[int, list[_Block]] = OrderedDict()  # nbytes -> idle blocks
        self.nbytes = 0  # bytes of every block made and not yet dropped, idle or in use


_cache = _Cache()


def empty(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialized C-contiguous array, in reused memory when a block is idle."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    idle = _cache.idle.get(nbytes)
    if idle:
        _cache.idle.move_to_end(nbytes)
        block = idle.pop()
    else:
        if idle is None:
            idle = _cache.idle[nbytes] = []
        if not _make_room(nbytes):
            return np.empty(shape, dtype)
        block = _Block(nbytes)
        block.idle = idle
        _cache.nbytes += nbytes
    return np.ndarray.__new__(_Lease, shape, dtype, buffer=block).view(np.ndarray)


def zeros(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A zero-filled C-contiguous array, in reused memory when a block is idle."""
    buffer = empty(shape, dtype)
    buffer.fill(0)
    return buffer


def _make_room(nbytes: int) -> bool:
    """Drop idle blocks of the least recently used sizes until ``nbytes`` more fit."""
    if nbytes > LIMIT_BYTES:
        return False
    for idle in _cache.idle.values():
        while idle and _cache.nbytes + nbytes > LIMIT_BYTES:
            _cache.nbytes -= len(idle.pop())
    return _cache.nbytes + nbytes <= LIMIT_BYTES


def info() -> dict[str, int]:
    """Bytes idle in the cache, bytes of every block it made (idle or in use), and the limit."""
    idle = sum(len(block) for blocks in _cache.idle.values() for block in blocks)
    return {"idle": idle, "total": _cache.nbytes, "limit": LIMIT_BYTES}


def clear() -> None:
    """Forget every idle block; blocks in use stay valid and are dropped when freed."""
    _cache.idle.clear()
    _cache.nbytes = 0
