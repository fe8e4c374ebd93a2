"""Read and write IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a big-endian header followed by a raw array: two zero bytes, a type code, the number
of dimensions, one uint32 per dimension, then the values in C order. The magic number is the first
four bytes read as a big-endian uint32 (2051 = 0x00000803 for uint8 images with 3 dimensions, 2049 =
0x00000801 for uint8 labels). Files whose name ends in ``.gz`` are gzip-compressed.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

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


def _read_bytes(path: Path) -> bytes:
    if path.suffix != ".gz":
        return path.read_bytes()
    with open(path, "rb") as raw:
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                return f.read()
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise DatasetError(f"{path}: not a valid gzip file ({exc})") from exc


def read_idx(path: str | os.PathLike[str], magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed if its name ends in ``.gz``) into a native-endian array.

    The header is validated against the payload: a bad magic number (or one other than ``magic``
    when given), a truncated header, or a payload whose length differs from what the header
    promises raises :class:`DatasetError` naming the file. The result is a writable copy.

    Example:
        >>> import tempfile
        >>> path = write_idx(Path(tempfile.mkdtemp()) / "a.gz", np.arange(6, dtype=np.uint8))
        >>> read_idx(path, magic=2049).tolist()
        [0, 1, 2, 3, 4, 5]
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DatasetError(f"{path}: {len(data)} bytes is too short for an IDX header")
    (found,) = struct.unpack(">I", data[:4])
    zero, code, ndim = found >> 16, (found >> 8) & 0xFF, found & 0xFF
    if zero != 0 or code not in _DTYPES or ndim == 0:
        raise DatasetError(f"{path}: bad magic number 0x{found:08x}; this is not an IDX file")
    if magic is not None and found != magic:
        raise DatasetError(f"{path}: bad magic number {found} (0x{found:08x}), expected {magic}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: header of {ndim} dimensions is truncated")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header
    if got != expected:
        what = "truncated" if got < expected else "trailing data after the array"
        raise DatasetError(
            f"{path}: header says shape {shape} ({expected} bytes of payload) but the payload "
            f"has {got} bytes ({what})"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
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
