"""Read and write IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a big-endian header followed by a raw array: two zero bytes, a type code, the number
of dimensions, one uint32 per dimension, then the values in C order. The magic number is the first
four bytes read as a big-endian uint32 (2051 = 0x00000803 for uint8 images with 3 dimensions, 2049 =
0x00000801 for uint8 labels). Files whose name ends in ``.gz`` are gzip-compressed.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from minigrad.data.errors import DatasetError

# IDX type code -> big-endian NumPy dtype.
_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES: dict[str, int] = {dtype.str.lstrip("<>|="): code for code, dtype in _DTYPES.items()}


# Deflate cannot expand data more than about 1032:1: a header promising more than that many
# times the .gz file's size cannot be honest, and is refused before anything is inflated.
_MAX_GZIP_RATIO = 1100


def read_idx(path: str | os.PathLike[str], magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed if its name ends in ``.gz``) into a native-endian array.

    The header is validated against the payload: a bad magic number (or one other than ``magic``
    when given), a truncated header, or a payload whose length differs from what the header
    promises raises :class:`DatasetError` naming the file. The payload is read (and inflated)
    only up to the size the header promises, and a promise the file cannot keep (more bytes
    than it holds, or than its gzip stream could inflate to) is refused before reading it, so a
    small file can never make this allocate or inflate much more than it is worth. The result
    is a writable copy.

    Example:
        >>> import tempfile
        >>> path = write_idx(Path(tempfile.mkdtemp()) / "a.gz", np.arange(6, dtype=np.uint8))
        >>> read_idx(path, magic=2049).tolist()
        [0, 1, 2, 3, 4, 5]
    """
    path = Path(path)
    size = os.path.getsize(path)
    gzipped = path.suffix == ".gz"
    try:
        with (gzip.open if gzipped else open)(path, "rb") as f:
            return _read(f, path, magic, size * _MAX_GZIP_RATIO if gzipped else size)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: not a valid gzip file ({exc})") from exc


def _read(f: BinaryIO, path: Path, magic: int | None, limit: int) -> np.ndarray:
    """Parse an open IDX stream holding at most ``limit`` bytes."""
    start = f.read(4)
    if len(start) < 4:
        raise DatasetError(f"{path}: {len(start)} bytes is too short for an IDX header")
    (found,) = struct.unpack(">I", start)
    zero, code, ndim = found >> 16, (found >> 8) & 0xFF, found & 0xFF
    if zero != 0 or code not in _DTYPES or ndim == 0:
        raise DatasetError(f"{path}: bad magic number 0x{found:08x}; this is not an IDX file")
    if magic is not None and found != magic:
        raise DatasetError(f"{path}: bad magic number {found} (0x{found:08x}), expected {magic}")
    dims = f.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DatasetError(f"{path}: header of {ndim} dimensions is truncated")
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = _DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if expected > limit:
        raise DatasetError(
            f"{path}: header says shape {shape} ({expected} bytes of payload), more than the "
            f"file can hold (truncated, or a corrupt header)"
        )
    payload = f.read(expected)
    if len(payload) < expected:
        raise DatasetError(
            f"{path}: header says shape {shape} ({expected} bytes of payload) but the payload "
            f"has {len(payload)} bytes (truncated)"
        )
    if f.read(1):
        raise DatasetError(
            f"{path}: header says shape {shape} ({expected} bytes of payload) but the payload "
            f"has more (trailing data after the array)"
        )
    array = np.frombuffer(payload, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file (gzipped if the name ends in ``.gz``) and return the path.

    Supported dtypes: uint8, int8, int16, int32, float32, float64. Gzip output is byte-for-byte
    reproducible (no timestamp). Useful to build small MNIST-like fixtures.

    Example:
        >>> import tempfile
        >>> path = write_idx(Path(tempfile.mkdtemp()) / "x", np.zeros((2, 3, 3), np.uint8))
        >>> path.read_bytes()[:4].hex()
        '00000803'
    """
    path = Path(path)
    array = np.asarray(array)
    key = array.dtype.str.lstrip("<>|=")
    if key not in _CODES or array.ndim == 0:
        raise ValueError(f"write_idx: cannot store a {array.ndim}-d {array.dtype} array as IDX")
    code = _CODES[key]
    header = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
    if path.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
    return path
