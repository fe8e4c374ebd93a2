"""The IDX reader: round trips, and a clear error naming the file for every kind of corruption."""

from __future__ import annotations

import gzip
import re
import struct
import tracemalloc

import numpy as np
import pytest

from minigrad.data import DatasetError
from minigrad.data.idx import read_idx, write_idx


def raw_idx(magic: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(f">I{len(shape)}I", magic, *shape) + payload


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
@pytest.mark.parametrize("shape", [(5,), (3, 4, 2), (0, 28, 28)])
def test_round_trip(tmp_path, dtype, name, shape):
    array = (np.arange(np.prod(shape)).reshape(shape) * 3 - 7).astype(dtype)
    out = read_idx(write_idx(tmp_path / name, array))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, array)


def test_mnist_magic_numbers(tmp_path):
    images = write_idx(tmp_path / "i.gz", np.zeros((2, 28, 28), np.uint8))
    labels = write_idx(tmp_path / "l.gz", np.zeros(2, np.uint8))
    assert gzip.decompress(images.read_bytes())[:4] == bytes.fromhex("00000803")
    assert read_idx(images, magic=2051).shape == (2, 28, 28)
    assert read_idx(labels, magic=2049).shape == (2,)


def test_unexpected_magic_names_file_and_both_numbers(tmp_path):
    labels = write_idx(tmp_path / "labels.gz", np.zeros(2, np.uint8))
    with pytest.raises(DatasetError, match=r"labels\.gz: bad magic number 2049 .*expected 2051"):
        read_idx(labels, magic=2051)


@pytest.mark.parametrize("magic", [0x01000801, 0x00000701, 0x00000800, 0x3C21444F])
def test_bad_magic(tmp_path, magic):
    path = tmp_path / "bad.gz"
    path.write_bytes(gzip.compress(raw_idx(magic, (1,), b"\0")))
    with pytest.raises(DatasetError, match=re.escape(f"{path}: bad magic number 0x{magic:08x}")):
        read_idx(path)


def test_truncated_payload_says_what_the_header_promised(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(raw_idx(0x803, (2, 28, 28), bytes(1000))))
    with pytest.raises(DatasetError, match=r"header says shape \(2, 28, 28\) \(1568 bytes") as e:
        read_idx(path)
    assert str(path) in str(e.value) and "has 1000 bytes (truncated)" in str(e.value)


def test_trailing_data_is_corrupt(tmp_path):
    path = tmp_path / "long.gz"
    path.write_bytes(gzip.compress(raw_idx(0x801, (3,), bytes(4))))
    with pytest.raises(DatasetError, match=r"payload has more \(trailing data after the array\)"):
        read_idx(path)


@pytest.mark.parametrize("body", [b"", b"\0\0", raw_idx(0x803, (5,), b"")])
def test_truncated_header(tmp_path, body):
    path = tmp_path / "head.gz"
    path.write_bytes(gzip.compress(body))
    with pytest.raises(DatasetError, match=re.escape(str(path))):
        read_idx(path)


def test_non_gzip_file_with_gz_name(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"<!DOCTYPE html><html>Not found</html>")
    with pytest.raises(DatasetError, match=re.escape(f"{path}: not a valid gzip file")):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    path = write_idx(tmp_path / "cut.gz", np.arange(5000, dtype=np.int32))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetError, match=re.escape(f"{path}: not a valid gzip file")):
        read_idx(path)


def test_corrupt_gzip_checksum(tmp_path):
    path = write_idx(tmp_path / "crc.gz", np.arange(50, dtype=np.uint8))
    body = bytearray(path.read_bytes())
    body[-6] ^= 0xFF  # inside the CRC32 trailer
    path.write_bytes(bytes(body))
    with pytest.raises(DatasetError, match="not a valid gzip file"):
        read_idx(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nothing.gz")


@pytest.mark.parametrize("array", [np.array(3, np.uint8), np.zeros(3, np.int64), np.zeros(2, bool)])
def test_write_rejects_what_idx_cannot_hold(tmp_path, array):
    with pytest.raises(ValueError, match="cannot store"):
        write_idx(tmp_path / "x.gz", array)


def test_gzip_output_is_reproducible(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    a = write_idx(tmp_path / "a.gz", array).read_bytes()
    b = write_idx(tmp_path / "b.gz", array).read_bytes()
    assert a == b


def test_dimensions_whose_product_overflows_int64_are_refused(tmp_path):
    # 65536**4 = 2**64 wraps to 0 in int64, which matched an empty payload
    path = tmp_path / "overflow.idx"
    path.write_bytes(raw_idx(0x804, (65536,) * 4, b""))
    with pytest.raises(DatasetError, match=r"\(18446744073709551616 bytes of payload\)"):
        read_idx(path)


def test_a_header_promising_more_than_the_gzip_can_inflate_is_refused_unread(tmp_path):
    path = tmp_path / "liar.gz"
    path.write_bytes(gzip.compress(raw_idx(0x801, (10**9,), bytes(10))))
    with pytest.raises(DatasetError, match="more than the file can hold"):
        read_idx(path)


def test_a_small_gzip_inflating_to_200_mb_is_refused_without_inflating_it(tmp_path):
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(raw_idx(0x801, (10,), bytes(10)))
        zeros = bytes(2**20)
        for _ in range(200):
            f.write(zeros)
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match="trailing data after the array"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20
