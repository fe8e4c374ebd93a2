"""Checkpoints: exact round trips, refusals on save, and one CheckpointError for every bad file."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import struct
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minigrad
from minigrad.serialization import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_DEPTH,
    METADATA_ENTRY,
    CheckpointError,
    load,
    save,
)

MAX_LOAD_ALLOCATION = 32 * 2**20  # bytes a hostile small file may make load allocate, at most


# --- helpers ---------------------------------------------------------------------------------


def assert_same(got: Any, want: Any, where: str = "state") -> None:
    """Equal in type, structure, key order, dtype, shape and every byte."""
    assert type(got) is type(want), f"{where}: {type(got).__name__} != {type(want).__name__}"
    if isinstance(want, dict):
        assert list(got) == list(want), where
        for k in want:
            assert_same(got[k], want[k], f"{where}/{k}")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}/{i}")
    elif isinstance(want, (np.ndarray, np.generic)):
        assert got.dtype == want.dtype, where
        assert got.shape == want.shape, where
        assert got.tobytes() == want.tobytes(), where
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got), where
    elif isinstance(want, float):
        assert repr(got) == repr(want), where  # repr tells -0.0 from 0.0
    else:
        assert got == want, where


def npy_bytes(a: np.ndarray, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, **kwargs)
    return buf.getvalue()


def npy_header_only(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """A hand-made version 1.0 .npy header declaring ``shape``, with no data after it."""
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header += " " * (-(10 + len(header) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1")


def metadata(tree: Any, version: Any = FORMAT_VERSION, fmt: str = FORMAT_NAME) -> bytes:
    return json.dumps({"format": fmt, "version": version, "tree": tree}).encode()


def write_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def patch_central_entry(path: Path, name: str, offset: int, fmt: str, value: int) -> None:
    """Overwrite one field of ``name``'s central-directory record (offsets per the zip spec)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        (name_len,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46 : at + 46 + name_len] == name.encode():
            struct.pack_into(fmt, data, at + offset, value)
            path.write_bytes(bytes(data))
            return
        at = data.find(b"PK\x01\x02", at + 1)
    raise AssertionError(f"no central-directory record for {name}")


def load_error(path: Path) -> CheckpointError:
    with pytest.raises(CheckpointError) as info:
        load(path)
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}: ")
    return info.value


@pytest.fixture
def state(rng: np.random.Generator) -> dict[str, Any]:
    """A training checkpoint exercising every kind of leaf."""
    nan_payloads = np.array([0x7FC00001, 0xFFA12345, 0x7F800001, 0x80000000], np.uint32)
    return {
        "model": {
            "fc.weight": rng.standard_normal((3, 4)).astype(np.float32),
            "fc.bias": np.array([-0.0, 0.0, 1e-45, 3.4e38], np.float32),
            "bn.num_batches_tracked": np.array(7, np.int64),
            "mask": rng.random(5) > 0.5,
            "empty": np.zeros((0, 3)),
            "empty_0d_batch": np.zeros((2, 0, 1), np.int32),
            "f64": rng.standard_normal(4),
            "fortran": np.asfortranarray(rng.standard_normal((2, 3))),
            "big_endian": np.arange(4, dtype=">i4"),
            "half": rng.standard_normal(3).astype(np.float16),
            "complex": (rng.standard_normal(2) + 1j).astype(np.complex64),
            "u8": np.arange(250, 256, dtype=np.uint8),
            "nan_payloads": nan_payloads.view(np.float32),
        },
        "optimizer": {
            "state": {"0": {"step": np.int64(12), "exp_avg": rng.standard_normal(3)}},
            "param_groups": [
                {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "params": [0, 1], "amsgrad": False}
            ],
        },
        "buffers": [np.ones(2, np.float32), (np.zeros(1, np.int8), "tag")],
        "rng": np.random.default_rng(5).bit_generator.state,
        "epoch": 3,
        "big": 2**200 + 1,
        "neg_big": -(2**127),
        "best_loss": math.inf,
        "worst": -math.inf,
        "undefined": math.nan,
        "neg_zero": -0.0,
        "tiny": 5e-324,
        "name": "résumé ✓",
        "note": None,
        "done": True,
        "scalars": {"f32": np.float32(1.5), "i64": np.int64(-3), "b": np.bool_(True)},
        "nested": {"empty": {}, "deeper": {"empty": {}}},
        "empty_list": [],
        "empty_tuple": (),
    }


# --- round trips -----------------------------------------------------------------------------


def test_round_trip_is_exact(tmp_path: Path, state: dict[str, Any]) -> None:
    path = tmp_path / "ckpt.npz"
    save(state, path, allow_nonfinite=True)
    assert_same(load(path), state)


def test_loaded_arrays_are_writable(tmp_path: Path, rng: np.random.Generator) -> None:
    save({"w": rng.standard_normal((2, 3))}, tmp_path / "c")
    w = load(tmp_path / "c")["w"]
    w += 1.0
    assert w.flags.writeable


def test_rng_state_round_trip_restores_the_stream(tmp_path: Path) -> None:
    g = np.random.default_rng(2024)
    g.random(3)
    save({"rng": g.bit_generator.state}, tmp_path / "c")
    expected = g.random(5)
    restored = np.random.default_rng()
    restored.bit_generator.state = load(tmp_path / "c")["rng"]
    np.testing.assert_array_equal(restored.random(5), expected)


def test_tensor_leaf_is_saved_as_its_data(tmp_path: Path) -> None:
    t = minigrad.tensor([[1.0, -2.0]], requires_grad=True)
    save({"w": t}, tmp_path / "c")
    assert_same(load(tmp_path / "c"), {"w": np.asarray(t.data)})


def test_array_larger_than_one_read_chunk(tmp_path: Path, rng: np.random.Generator) -> None:
    big = rng.standard_normal(5_000_000).astype(np.float32)  # 20 MB > the 16 MiB read chunk
    save({"big": big}, tmp_path / "c")
    assert_same(load(tmp_path / "c"), {"big": big})


def test_a_recompressed_checkpoint_is_refused(tmp_path: Path, state: dict[str, Any]) -> None:
    save(state, tmp_path / "c", allow_nonfinite=True)
    with zipfile.ZipFile(tmp_path / "c") as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    write_zip(tmp_path / "d", members, zipfile.ZIP_DEFLATED)
    assert "is compressed (zip method 8)" in load_error(tmp_path / "d").reason


def test_compressed_metadata_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    # JSON whitespace deflates about 1000:1: a small file that would cost 64 MiB to inflate
    bomb = b"{" + b" " * (64 * 2**20) + b"}"
    write_zip(tmp_path / "c", {METADATA_ENTRY: bomb}, zipfile.ZIP_DEFLATED)
    assert (tmp_path / "c").stat().st_size < 2**20
    reason, peak = load_error_and_peak(tmp_path / "c")
    assert f"entry {METADATA_ENTRY!r} is compressed" in reason
    assert peak < MAX_LOAD_ALLOCATION


# --- the file on disk ------------------------------------------------------------------------


def test_file_is_a_plain_npz_with_documented_metadata(tmp_path: Path) -> None:
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    state = {"model": {"fc.weight": w}, "step": np.int64(4), "betas": (0.9, 0.999)}
    save({**state, "best": math.inf, "epoch": 2}, tmp_path / "c")
    with np.load(tmp_path / "c", allow_pickle=False) as npz:
        assert npz.files == [METADATA_ENTRY, "model/fc.weight", "step"]
        np.testing.assert_array_equal(npz["model/fc.weight"], w)
        assert json.loads(npz[METADATA_ENTRY]) == {
            "format": "minigrad-checkpoint",
            "version": 1,
            "tree": {
                "model": {"fc.weight": {"/array": "model/fc.weight"}},
                "step": {"/scalar": "step"},
                "betas": {"/tuple": [0.9, 0.999]},
                "best": {"/float": "inf"},
                "epoch": 2,
            },
        }


@pytest.mark.parametrize("name", ["ckpt", "ckpt.npz", "model.pt", "weird name.bin"])
def test_path_is_used_as_given(tmp_path: Path, name: str) -> None:
    save({"w": np.zeros(1)}, str(tmp_path / name))
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert_same(load(str(tmp_path / name)), {"w": np.zeros(1)})


def test_save_is_deterministic_and_overwrites(tmp_path: Path, state: dict[str, Any]) -> None:
    save({"old": 1}, tmp_path / "a")
    save(state, tmp_path / "a", allow_nonfinite=True)
    save(state, tmp_path / "b", allow_nonfinite=True)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_file_permissions_follow_the_umask(tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"")
    save({"a": 1}, tmp_path / "ckpt")
    assert (tmp_path / "ckpt").stat().st_mode == (tmp_path / "plain").stat().st_mode


# --- refusals on save ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "count"),
    [
        (np.array([1.0, np.nan, 2.0], np.float32), 1),
        (np.array([np.inf, -np.inf]), 2),
        (np.array([1 + 1j, complex(0, np.nan)]), 1),
        (np.array(np.nan, np.float16), 1),
        (np.float64(np.inf), 1),
    ],
)
def test_nonfinite_arrays_are_refused_by_key_path(tmp_path: Path, bad: Any, count: int) -> None:
    state = {"model": {"fc.weight": bad}}
    with pytest.raises(ValueError, match=rf"model/fc\.weight holds {count} non-finite") as info:
        save(state, tmp_path / "c")
    assert "allow_nonfinite=True" in str(info.value)
    assert list(tmp_path.iterdir()) == []
    save(state, tmp_path / "c", allow_nonfinite=True)
    assert_same(load(tmp_path / "c"), state)


def test_nonfinite_python_floats_and_integer_arrays_are_not_refused(tmp_path: Path) -> None:
    state = {"best": math.inf, "last": math.nan, "counts": np.array([2**62], np.int64)}
    save(state, tmp_path / "c")
    assert_same(load(tmp_path / "c"), state)


@pytest.mark.parametrize(
    ("state", "key", "where"),
    [
        ({"a/b": 1}, "a/b", "the top level"),
        ({"model": {"fc/w": np.zeros(1)}}, "fc/w", "model"),
        ({"state": {0: {"step": 1}}}, 0, "state"),
        ({"": 1}, "", "the top level"),
        ({"a\\b": 1}, "a\\b", "the top level"),
        ({"a\0b": 1}, "a\0b", "the top level"),
        ({"groups": [{"x/y": 1}]}, "x/y", "groups/0"),
    ],
)
def test_bad_keys_are_refused(tmp_path: Path, state: dict[Any, Any], key: Any, where: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"bad key {key!r} at {where}")):
        save(state, tmp_path / "c")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1, 2}, "cannot store a set at x"),
        (b"raw", "cannot store a bytes at x"),
        (1 + 2j, "cannot store a complex at x"),
        ([1, {2}], "cannot store a set at x/1"),
        (np.datetime64("2024-01-01"), "cannot store a datetime64 at x"),
        (np.array(["a", "b"]), "x has dtype <U1; only bool and numeric"),
        (np.array([{"a": 1}], dtype=object), "object arrays would need pickle"),
        (np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]), "only bool and numeric"),
    ],
)
def test_unsupported_values_are_refused(tmp_path: Path, value: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        save({"x": value}, tmp_path / "c")
    assert list(tmp_path.iterdir()) == []


def test_cycles_and_non_dicts_are_refused(tmp_path: Path) -> None:
    d: dict[str, Any] = {"a": []}
    d["a"].append(d)
    with pytest.raises(ValueError, match="the value at a/0 is a dict or list that contains it"):
        save(d, tmp_path / "c")
    with pytest.raises(TypeError, match="state must be a dict, got list"):
        save([1], tmp_path / "c")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("state", "where"),
    [
        ({"model": {"note": "caf\udce9"}}, "the string at model/note"),
        ({"groups": ["ok", "\ud800"]}, "the string at groups/1"),
        ({"model": {"w\udc80": 1}}, "key 'w\\udc80' at model"),
    ],
)
def test_a_lone_surrogate_is_refused_with_its_key_path(tmp_path: Path, state, where) -> None:
    with pytest.raises(ValueError, match=re.escape(f"save: {where} is not valid Unicode")):
        save(state, tmp_path / "c")
    assert list(tmp_path.iterdir()) == []


def _nested(depth: int) -> dict[str, Any]:
    """``depth`` dicts, one inside the other, around an array."""
    state: dict[str, Any] = {"leaf": np.zeros(1)}
    for _ in range(depth - 1):
        state = {"a": state}
    return state


def test_nesting_up_to_max_depth_round_trips_and_deeper_is_refused(tmp_path: Path) -> None:
    save(_nested(MAX_DEPTH), tmp_path / "ok")
    assert_same(load(tmp_path / "ok"), _nested(MAX_DEPTH))
    for depth in (MAX_DEPTH + 1, 5000):  # 5000 was a RecursionError
        with pytest.raises(ValueError, match=f"nested more than {MAX_DEPTH} levels deep"):
            save(_nested(depth), tmp_path / "deep")
    assert [p.name for p in tmp_path.iterdir()] == ["ok"]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000])
def test_metadata_nested_too_deep_is_refused(tmp_path: Path, depth: int) -> None:
    tree = '{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)
    meta = f'{{"format": "{FORMAT_NAME}", "version": {FORMAT_VERSION}, "tree": {tree}}}'
    write_zip(tmp_path / "c", {METADATA_ENTRY: meta.encode()})
    reason = load_error(tmp_path / "c").reason
    assert f"nested more than {MAX_DEPTH} levels deep" in reason or "RecursionError" in reason


@pytest.mark.parametrize("error", [FileNotFoundError, PermissionError])
def test_save_failures_name_the_target_not_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: type[OSError]
) -> None:
    target = tmp_path / "missing" / "ckpt.npz"
    if error is PermissionError:  # a read-only folder, whoever runs the tests (root included)
        target = tmp_path / "ckpt.npz"

        def refuse(name: str, *args: Any) -> int:
            raise PermissionError(13, "Permission denied", name)

        monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(error) as info:
        save({"x": 1}, target)
    assert info.value.filename == str(target)
    assert "save: cannot write" in str(info.value) and ".tmp" not in str(info.value)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


# --- interrupted saves -----------------------------------------------------------------------


def _fail_fsync(fd: int) -> None:
    raise OSError(5, "Input/output error")


def _fail_replace(src: Any, dst: Any) -> None:
    raise OSError(28, "No space left on device")


def _half_write_then_fail(fp: Any, array: np.ndarray, **kwargs: Any) -> None:
    fp.write(b"\x93NUMPY\x01\x00v\x00{'descr': ")  # part of a header, then no space
    raise OSError(28, "No space left on device")


def _interrupt_mid_write(fp: Any, array: np.ndarray, **kwargs: Any) -> None:
    fp.write(b"\x93NUMPY")
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("target", "replacement", "error"),
    [
        ((os, "fsync"), _fail_fsync, OSError),
        ((os, "replace"), _fail_replace, OSError),
        ((np.lib.format, "write_array"), _half_write_then_fail, OSError),
        ((np.lib.format, "write_array"), _interrupt_mid_write, KeyboardInterrupt),
    ],
    ids=["fsync", "replace", "write_array", "keyboard_interrupt"],
)
@pytest.mark.parametrize("previous", [True, False], ids=["overwrite", "new"])
def test_interrupted_save_leaves_the_previous_file_intact(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    state: dict[str, Any],
    target: tuple[Any, str],
    replacement: Any,
    error: type[BaseException],
    previous: bool,
) -> None:
    path = tmp_path / "ckpt.npz"
    old_state = {"epoch": 1, "w": np.arange(3.0)}
    if previous:
        save(old_state, path)
    old_bytes = path.read_bytes() if previous else None
    monkeypatch.setattr(*target, replacement)
    with pytest.raises(error):
        save(state, path, allow_nonfinite=True)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == (["ckpt.npz"] if previous else [])
    if previous:
        assert path.read_bytes() == old_bytes
        assert_same(load(path), old_state)


# --- loading bad files -----------------------------------------------------------------------


def _small_checkpoint(path: Path) -> dict[str, Any]:
    state = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.int64(3), "e": [1, "x"]}
    save(state, path)
    return state


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.npz")


def test_a_folder_is_not_a_checkpoint(tmp_path: Path) -> None:
    assert "cannot read it (IsADirectoryError" in load_error(tmp_path).reason


def test_every_truncation_raises(tmp_path: Path) -> None:
    _small_checkpoint(tmp_path / "c")
    data = (tmp_path / "c").read_bytes()
    cut = tmp_path / "cut"
    for n in range(len(data)):
        cut.write_bytes(data[:n])
        reason = load_error(cut).reason
        expected = "the file is empty" if n == 0 else "zip archive"
        assert expected in reason, (n, reason)


def test_every_flipped_byte_raises_or_changes_nothing(tmp_path: Path) -> None:
    state = _small_checkpoint(tmp_path / "c")
    data = (tmp_path / "c").read_bytes()
    damaged = tmp_path / "damaged"
    refused = 0
    for i in range(len(data)):
        damaged.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])
        try:
            got = load(damaged)
        except CheckpointError:
            refused += 1
        else:
            assert_same(got, state, f"byte {i}")
    assert refused > len(data) // 2


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"{'descr'", b"{'''descr'"),  # an unterminated triple-quoted string
        (b"'shape': (2,)", b"'shape': ((2,)"),  # an unclosed bracket
    ],
    ids=["string", "bracket"],
)
def test_a_header_the_tokenizer_chokes_on_is_a_checkpoint_error(tmp_path: Path, old, new) -> None:
    save({"w": np.zeros(2, np.float32)}, tmp_path / "c")
    with zipfile.ZipFile(tmp_path / "c") as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    assert old in members["w.npy"]
    members["w.npy"] = members["w.npy"].replace(old, new, 1)
    write_zip(tmp_path / "d", members)
    assert "entry 'w.npy' is damaged (TokenError" in load_error(tmp_path / "d").reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"epoch 3, loss 0.25\n", "not a zip archive"),
        (pickle.dumps({"w": [1.0, 2.0]}), "not a zip archive"),
        (npy_bytes(np.zeros(3)), "not a zip archive"),
        (b"PK\x03\x04" + bytes(100), "truncated or damaged zip archive"),
    ],
    ids=["empty", "text", "pickle", "npy", "zip_signature_only"],
)
def test_files_that_are_not_zips(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / "c").write_bytes(content)
    assert reason in load_error(tmp_path / "c").reason


def test_random_bytes(tmp_path: Path, rng: np.random.Generator) -> None:
    for _ in range(20):
        (tmp_path / "c").write_bytes(rng.bytes(int(rng.integers(1, 5000))))
        load_error(tmp_path / "c")


def test_plain_npz_without_metadata(tmp_path: Path) -> None:
    with open(tmp_path / "c", "wb") as f:
        np.savez(f, w=np.zeros(3))
    assert f"no {METADATA_ENTRY} entry" in load_error(tmp_path / "c").reason


class _RunsCode:
    """Unpickling this object creates a folder: proof that code from the file ran."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.folder),))


def test_pickled_object_array_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "code_ran"
    evil = np.array([_RunsCode(marker)], dtype=object)
    members = {METADATA_ENTRY: metadata({"w": {"/array": "w"}}), "w.npy": npy_bytes(evil)}
    write_zip(tmp_path / "c", members)
    assert "pickled object array" in load_error(tmp_path / "c").reason
    with open(tmp_path / "plain.npz", "wb") as f:
        np.savez(f, w=evil)
    load_error(tmp_path / "plain.npz")
    assert not marker.exists()


W = {"w": {"/array": "w"}}
BAD_MEMBERS = {
    "missing_entry": ({METADATA_ENTRY: metadata(W)}, "refers to a missing entry 'w.npy'"),
    "unreferenced": (
        {METADATA_ENTRY: metadata({}), "x.npy": npy_bytes(np.zeros(1))},
        "entry 'x.npy' is not referenced",
    ),
    "stray_file": (
        {METADATA_ENTRY: metadata({}), "README.txt": b"hi"},
        "entry 'README.txt' is not referenced",
    ),
    "folder_entry": ({METADATA_ENTRY: metadata({}), "sub/": b""}, "entry 'sub/' is a folder"),
    "referenced_twice": (
        {
            METADATA_ENTRY: metadata({"a": {"/array": "w"}, "b": {"/array": "w"}}),
            "w.npy": npy_bytes(np.zeros(1)),
        },
        "refers to entry 'w.npy' twice",
    ),
    "not_npy": ({METADATA_ENTRY: metadata(W), "w.npy": b"hello world"}, "not a .npy array"),
    "npy_version_3": (
        {METADATA_ENTRY: metadata(W), "w.npy": npy_bytes(np.zeros(2), version=(3, 0))},
        "unsupported .npy version (3, 0)",
    ),
    "string_dtype": (
        {METADATA_ENTRY: metadata(W), "w.npy": npy_bytes(np.array(["abc"]))},
        "dtype <U3 is not bool or numeric",
    ),
    "structured_dtype": (
        {METADATA_ENTRY: metadata(W), "w.npy": npy_bytes(np.zeros(1, dtype=[("a", "f4")]))},
        "is not bool or numeric",
    ),
    "short_data": (
        {METADATA_ENTRY: metadata(W), "w.npy": npy_bytes(np.zeros(4))[:-8]},
        "header declares shape (4,) of float64 (32 bytes) but the entry holds 24 bytes",
    ),
    "long_data": (
        {METADATA_ENTRY: metadata(W), "w.npy": npy_bytes(np.zeros(4)) + bytes(8)},
        "header declares shape (4,) of float64 (32 bytes) but the entry holds 40 bytes",
    ),
    "huge_shape": (
        {METADATA_ENTRY: metadata(W), "w.npy": npy_header_only((10**12,)) + bytes(16)},
        "header declares shape (1000000000000,) of float64 (8000000000000 bytes)",
    ),
    "scalar_not_0d": (
        {METADATA_ENTRY: metadata({"s": {"/scalar": "s"}}), "s.npy": npy_bytes(np.zeros(2))},
        "scalar 's' is stored with shape (2,)",
    ),
}


def load_error_and_peak(path: Path) -> tuple[str, int]:
    """The CheckpointError reason of loading ``path``, and the peak memory the load traced."""
    tracemalloc.start()
    try:
        reason = load_error(path).reason
        return reason, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("members", "reason"), BAD_MEMBERS.values(), ids=BAD_MEMBERS.keys())
def test_bad_entries(tmp_path: Path, members: dict[str, bytes], reason: str) -> None:
    write_zip(tmp_path / "c", members)
    got, peak = load_error_and_peak(tmp_path / "c")
    assert reason in got
    assert peak < MAX_LOAD_ALLOCATION


def test_duplicate_entries(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        write_zip(tmp_path / "c", {METADATA_ENTRY: metadata({})})
        with zipfile.ZipFile(tmp_path / "c", "a") as zf:
            zf.writestr(METADATA_ENTRY, metadata({}))
    assert f"entry {METADATA_ENTRY!r} appears twice" in load_error(tmp_path / "c").reason


@pytest.mark.parametrize(
    ("compression", "forge_compressed_size", "reason"),
    [
        (zipfile.ZIP_STORED, True, "claims 4026531840 bytes but the file has only"),
        (zipfile.ZIP_STORED, False, "is stored but its two sizes differ"),
    ],
)
def test_forged_entry_sizes_are_refused_before_allocating(
    tmp_path: Path, compression: int, forge_compressed_size: bool, reason: str
) -> None:
    size = 0xF0000000
    header = npy_header_only((size - 128,), "|u1")  # consistent with the forged size
    members = {METADATA_ENTRY: metadata(W), "w.npy": header + bytes(16)}
    write_zip(tmp_path / "c", members, compression)
    patch_central_entry(tmp_path / "c", "w.npy", 24, "<I", size)  # uncompressed size
    if forge_compressed_size:
        patch_central_entry(tmp_path / "c", "w.npy", 20, "<I", size)
    got, peak = load_error_and_peak(tmp_path / "c")
    assert reason in got
    assert peak < MAX_LOAD_ALLOCATION


def test_encrypted_and_unsupported_compression(tmp_path: Path) -> None:
    members = {METADATA_ENTRY: metadata({})}
    write_zip(tmp_path / "c", members)
    patch_central_entry(tmp_path / "c", METADATA_ENTRY, 8, "<H", 0x1)
    assert "is encrypted" in load_error(tmp_path / "c").reason
    write_zip(tmp_path / "d", members, zipfile.ZIP_BZIP2)
    assert "is compressed (zip method 12)" in load_error(tmp_path / "d").reason


def test_newer_format_version_is_refused(tmp_path: Path) -> None:
    write_zip(tmp_path / "c", {METADATA_ENTRY: metadata({}, version=FORMAT_VERSION + 1)})
    reason = load_error(tmp_path / "c").reason
    assert f"format version {FORMAT_VERSION + 1} by a newer minigrad" in reason
    assert "upgrade minigrad" in reason


BAD_METADATA = {
    "not_json": (b"{not json", "malformed __minigrad__.json (JSONDecodeError"),
    "not_utf8": (b"\xff\xfe{}", "malformed __minigrad__.json (UnicodeDecodeError"),
    "too_deep": (b"[" * 100_000 + b"]" * 100_000, "malformed __minigrad__.json (RecursionError"),
    "nan_constant": (
        b'{"format": "minigrad-checkpoint", "version": 1, "tree": {"a": NaN}}',
        "non-standard JSON constant NaN",
    ),
    "repeated_key": (
        b'{"format": "minigrad-checkpoint", "version": 1, "tree": {}, "tree": {}}',
        "repeats a key",
    ),
    "a_list": (b"[]", "does not say format 'minigrad-checkpoint'"),
    "other_format": (metadata({}, fmt="other"), "does not say format"),
    "no_version": (
        b'{"format": "minigrad-checkpoint", "tree": {}}',
        "bad format version None",
    ),
    "string_version": (metadata({}, version="1"), "bad format version '1'"),
    "bool_version": (metadata({}, version=True), "bad format version True"),
    "zero_version": (metadata({}, version=0), "bad format version 0"),
    "no_tree": (b'{"format": "minigrad-checkpoint", "version": 1}', "'tree' is not a dict"),
    "list_tree": (metadata([1]), "'tree' is not a dict"),
    "tagged_tree": (metadata({"/float": "inf"}), "'tree' is not a dict"),
    "unknown_tag": (metadata({"a": {"/pickle": "x"}}), "bad tagged value {'/pickle': 'x'}"),
    "bad_float_tag": (metadata({"a": {"/float": "big"}}), "bad tagged value"),
    "bad_tuple_tag": (metadata({"a": {"/tuple": 3}}), "bad tagged value"),
    "non_string_ref": (metadata({"a": {"/array": 3}}), "array reference 3 is not a string"),
    "slash_in_key": (metadata({"a": {"b/c": 1, "d": 2}}), "key 'b/c' contains '/'"),
}


@pytest.mark.parametrize(("meta", "reason"), BAD_METADATA.values(), ids=BAD_METADATA.keys())
def test_malformed_metadata(tmp_path: Path, meta: bytes, reason: str) -> None:
    write_zip(tmp_path / "c", {METADATA_ENTRY: meta})
    assert reason in load_error(tmp_path / "c").reason


def test_error_pickles_with_path_and_reason() -> None:
    err = pickle.loads(pickle.dumps(CheckpointError("a/b.npz", "not a zip archive")))
    assert (err.path, err.reason) == ("a/b.npz", "not a zip archive")
    assert str(err) == "a/b.npz: not a zip archive"
