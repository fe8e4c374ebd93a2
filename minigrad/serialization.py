"""Checkpoints: ``save`` and ``load`` nested state dicts, without pickle.

A checkpoint is a standard ``.npz`` file: a zip archive that ``np.load(path, allow_pickle=False)``
opens. It holds

- one ``.npy`` entry per array, named by the array's key path joined with ``/`` plus ``.npy``
  (``model/fc.weight.npy``); entries are stored uncompressed, so arrays load bit for bit;
- one UTF-8 JSON entry, ``__minigrad__.json``, written first::

      {"format": "minigrad-checkpoint", "version": 1, "tree": {...}}

``tree`` is the saved dict. Dict keys never contain ``/``, so a JSON object whose single key
starts with ``/`` is a tagged value, and every other JSON value stands for itself:

- ``{"/array": "model/fc.weight"}``: the array in entry ``model/fc.weight.npy``;
- ``{"/scalar": "opt/step"}``: a NumPy scalar, stored as the 0-d array in ``opt/step.npy``;
- ``{"/tuple": [...]}``: a tuple (a plain JSON list is a list);
- ``{"/float": "nan" | "inf" | "-inf"}``: a non-finite Python float (the JSON stays standard).

Every array entry is referenced exactly once. A reader that meets a ``version`` above the one it
knows must refuse the file. Saving the same state twice gives the same bytes.

Arrays are read with NumPy's header parser only (never ``allow_pickle``), after checking that the
shape and dtype a header declares match the bytes its entry holds. Entries must be stored
uncompressed, as ``save`` writes them: a compressed entry is refused before anything is inflated,
so nothing ``load`` reads can be larger than the file. Dicts and lists nest at most
``MAX_DEPTH`` levels. So a damaged or hostile file cannot make ``load`` run code, recurse
without bound or allocate memory it does not account for.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tokenize
import zipfile
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np

from minigrad._io import atomic_file
from minigrad.tensor import Tensor

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_DEPTH",
    "METADATA_ENTRY",
    "CheckpointError",
    "load",
    "save",
]

FORMAT_NAME = "minigrad-checkpoint"
FORMAT_VERSION = 1
METADATA_ENTRY = "__minigrad__.json"
#: How deeply dicts, lists and tuples may nest in a checkpoint (a state dict uses about five).
MAX_DEPTH = 100

_ARRAY_KINDS = "biufc"  # bool, signed and unsigned integers, floats, complex
_FLOAT_TAGS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_BAD_KEY_CHARS = ("/", "\\", "\0")  # zipfile rewrites "\\" on Windows and cuts names at NUL
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # a fixed timestamp keeps the bytes reproducible
_CHUNK = 1 << 24
# What the zip, JSON and .npy readers raise on bad bytes (NumPy's header parser tokenizes the
# header as Python); wrapped into CheckpointError with the entry's name.
_READ_ERRORS = (
    zipfile.BadZipFile,
    tokenize.TokenError,
    SyntaxError,
    struct.error,
    OSError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    NotImplementedError,
    RecursionError,
)


class CheckpointError(Exception):
    """A file cannot be loaded as a checkpoint: truncated, corrupt, pickle-bearing, not an npz.

    ``str(err)`` is ``"<path>: <reason>"``; both parts are also attributes.

    Example:
        >>> str(CheckpointError("run/ckpt.npz", "not a zip archive"))
        'run/ckpt.npz: not a zip archive'
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class _Invalid(Exception):
    """Internal: the reason a file is not a valid checkpoint (``load`` adds the path)."""


def save(
    state: Mapping[str, Any], path: str | os.PathLike[str], *, allow_nonfinite: bool = False
) -> None:
    """Write a nested state dict to ``path`` atomically (see the module docstring for the format).

    Keys are non-empty strings without ``/``, ``\\`` or NUL; values are dicts (up to
    ``MAX_DEPTH`` levels of nesting), ndarrays of bool or numeric dtype, Tensors (their
    ``.data`` is saved and loads as an ndarray), NumPy scalars, Python ``int`` (any size),
    ``float``, ``str``, ``bool``, ``None``, and lists and tuples of these. Everything is checked
    before the file is touched: a bad key (or a string that is not valid Unicode, such as a lone
    surrogate) raises ``ValueError`` naming its key path, an unsupported value ``TypeError``,
    nesting deeper than ``MAX_DEPTH`` ``ValueError``, and a float array or NumPy scalar holding
    NaN or infinity ``ValueError`` naming its key path, unless ``allow_nonfinite=True``
    (non-finite Python floats are metadata and always allowed).

    The file is written to a temporary file in the same folder, flushed, fsynced and moved over
    ``path`` with ``os.replace``: a failure at any point leaves the previous file untouched and
    no temporary file behind, and raises the ``OSError`` with ``path`` as its file name (a
    missing or read-only folder names the checkpoint, not the temporary file). ``path`` is used
    as given (no ``.npz`` is appended). An array reachable under two keys is stored twice and
    loads as two arrays.

    Example:
        >>> import tempfile; path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
        >>> save({"model": {"w": np.ones(2, np.float32)}, "epoch": 3}, path); load(path)["epoch"]
        3
    """
    if not isinstance(state, Mapping) and callable(getattr(state, "state_dict", None)):
        kind = type(state).__name__
        raise TypeError(
            f"save: got a {kind} object, and minigrad saves no objects (nothing loads with "
            f"pickle); save its state instead: minigrad.save(model.state_dict(), path), and "
            f"to restore, build the {kind} again and call load_state_dict(minigrad.load(path))"
        )
    if not isinstance(state, Mapping):
        raise TypeError(f"save: state must be a dict, got {type(state).__name__}")
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state, "", arrays, allow_nonfinite, set())
    metadata = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "tree": tree}
    metadata_bytes = json.dumps(metadata, allow_nan=False, ensure_ascii=False).encode()
    with atomic_file(path, "wb", "save") as f:
        _write_archive(f, metadata_bytes, arrays)


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save` and return the nested dict it holds.

    Arrays come back with their dtype, shape and bytes exactly; NumPy scalars as NumPy scalars;
    tuples as tuples; a NaN Python float as ``math.nan``. Nothing from the file is unpickled or
    executed. A missing file raises ``FileNotFoundError`` (so "no checkpoint yet" is easy to
    tell apart from a broken one); anything else wrong with the file (unreadable, empty,
    truncated, corrupt anywhere including a ``.npy`` header, not a zip, a plain ``.npz`` without
    minigrad metadata, a compressed entry, an entry that is not a ``.npy`` array or holds a
    pickled object array, a size that does not add up, nesting deeper than ``MAX_DEPTH``, a
    newer format version) raises :class:`CheckpointError` with the path and the reason, and
    nothing else.

    Example:
        >>> import tempfile; path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
        >>> save({"step": np.int64(7), "betas": (0.9, 0.999)}, path); load(path)
        {'step': np.int64(7), 'betas': (0.9, 0.999)}
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            return _read_checkpoint(f)
    except FileNotFoundError:
        raise
    except _Invalid as exc:
        raise CheckpointError(path, str(exc)) from None
    except Exception as exc:  # whatever the readers raise on bytes they cannot parse
        raise CheckpointError(path, f"cannot read it ({type(exc).__name__}: {exc})") from exc


# --- saving ----------------------------------------------------------------------------------


def _encode(
    value: Any, key: str, arrays: dict[str, np.ndarray], allow_nonfinite: bool, active: set[int]
) -> Any:
    """The JSON form of ``value`` (at key path ``key``), moving arrays into ``arrays``."""
    where = key or "the top level"
    if isinstance(value, (Mapping, list, tuple)):
        if id(value) in active:
            raise ValueError(f"save: the value at {where} is a dict or list that contains it")
        if len(active) == MAX_DEPTH:  # ``active`` holds the containers on the path to here
            raise ValueError(
                f"save: the value at {_short(where)} is nested more than {MAX_DEPTH} levels "
                "deep (dicts, lists and tuples); a checkpoint allows at most that"
            )
        active.add(id(value))
        if isinstance(value, Mapping):
            out: Any = {}
            for k, v in value.items():
                _check_key(k, where)
                _check_text(k, f"key {k[:40]!r} at {_short(where)}")
                out[k] = _encode(v, _join(key, k), arrays, allow_nonfinite, active)
        else:
            out = [
                _encode(v, _join(key, str(i)), arrays, allow_nonfinite, active)
                for i, v in enumerate(value)
            ]
            if isinstance(value, tuple):
                out = {"/tuple": out}
        active.discard(id(value))
        return out
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, np.ndarray):
        arrays[key] = _checked_array(np.asarray(value), where, allow_nonfinite)
        return {"/array": key}
    if isinstance(value, np.generic) and value.dtype.kind in _ARRAY_KINDS:
        arrays[key] = _checked_array(np.asarray(value), where, allow_nonfinite)
        return {"/scalar": key}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        _check_text(value, f"the string at {_short(where)}")
        return str(value)  # a str subclass such as np.str_ loads as str
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        value = float(value)
        return value if math.isfinite(value) else {"/float": repr(value)}
    raise TypeError(
        f"save: cannot store a {type(value).__name__} at {where}; values must be dicts, "
        "ndarrays, Tensors, NumPy scalars, int, float, str, bool, None, or lists/tuples of these"
    )


def _join(prefix: str, key: str) -> str:
    return f"{prefix}/{key}" if prefix else key


def _short(where: str, limit: int = 120) -> str:
    """A key path cut to ``limit`` characters (deep paths would fill the screen)."""
    return where if len(where) <= limit else where[:limit] + "..."


def _check_text(text: str, what: str) -> None:
    """Refuse a string UTF-8 cannot encode (a lone surrogate, from a bad decode)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"save: {what} is not valid Unicode: {exc.object[exc.start : exc.end]!r} at "
            f"position {exc.start} is a lone surrogate, which UTF-8 cannot store"
        ) from None


def _check_key(k: Any, where: str) -> None:
    if not isinstance(k, str) or not k or any(c in k for c in _BAD_KEY_CHARS):
        raise ValueError(
            f"save: bad key {k!r} at {where}: keys must be non-empty strings "
            "without '/', '\\' or NUL"
        )


def _checked_array(a: np.ndarray, where: str, allow_nonfinite: bool) -> np.ndarray:
    if a.dtype.kind not in _ARRAY_KINDS or a.dtype.fields is not None:
        why = " (object arrays would need pickle)" if a.dtype.hasobject else ""
        raise TypeError(
            f"save: {where} has dtype {a.dtype}{why}; only bool and numeric arrays can be saved"
        )
    if not allow_nonfinite and a.dtype.kind in "fc":
        bad = a.size - np.count_nonzero(np.isfinite(a))
        if bad:
            raise ValueError(
                f"save: {where} holds {bad} non-finite value(s) (NaN or infinity); "
                "pass allow_nonfinite=True to save it anyway"
            )
    return a


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.external_attr = 0o644 << 16  # rw-r--r-- when someone unzips it
    return info


def _write_archive(f: BinaryIO, metadata: bytes, arrays: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_zip_info(METADATA_ENTRY), metadata)
        for key, a in arrays.items():
            with zf.open(_zip_info(key + ".npy"), "w", force_zip64=True) as member:
                np.lib.format.write_array(member, a, allow_pickle=False)


# --- loading ---------------------------------------------------------------------------------


def _read_checkpoint(f: BinaryIO) -> dict[str, Any]:
    size = os.fstat(f.fileno()).st_size
    if size == 0:
        raise _Invalid("the file is empty")
    try:
        zf = zipfile.ZipFile(f)
    except zipfile.BadZipFile as exc:
        f.seek(0)
        if f.read(4) == b"PK\x03\x04":
            raise _Invalid(f"truncated or damaged zip archive ({exc})") from None
        raise _Invalid("not a zip archive (a minigrad checkpoint is an .npz file)") from None
    with zf:
        entries: dict[str, zipfile.ZipInfo] = {}
        for info in zf.infolist():
            if info.filename in entries:
                raise _Invalid(f"entry {info.filename!r} appears twice")
            _check_entry(info, size)
            entries[info.filename] = info
        if METADATA_ENTRY not in entries:
            raise _Invalid(
                f"no {METADATA_ENTRY} entry: a zip or .npz file, but not a minigrad checkpoint"
            )
        tree = _read_metadata(zf, entries.pop(METADATA_ENTRY))
        used: set[str] = set()
        state = _decode(tree, _ArrayReader(zf, entries, used), 1)
        unused = sorted(set(entries) - used)
        if unused:
            raise _Invalid(f"entry {unused[0]!r} is not referenced by the metadata")
        return state


def _check_entry(info: zipfile.ZipInfo, size: int) -> None:
    """Refuse an entry whose declared sizes could not come from this file, before reading it."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise _Invalid(f"entry {name!r} is encrypted")
    if info.is_dir():
        raise _Invalid(f"entry {name!r} is a folder")
    if info.compress_size > size:
        raise _Invalid(
            f"entry {name!r} claims {info.compress_size} bytes but the file has only {size}"
        )
    if info.compress_type != zipfile.ZIP_STORED:
        raise _Invalid(
            f"entry {name!r} is compressed (zip method {info.compress_type}); minigrad "
            "checkpoints store every entry uncompressed, and compressed ones are refused "
            "so that loading never inflates more than the file holds"
        )
    if info.file_size != info.compress_size:
        raise _Invalid(f"entry {name!r} is stored but its two sizes differ")


def _read_metadata(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Any:
    try:
        meta = json.loads(
            zf.read(info).decode("utf-8"),
            object_pairs_hook=_unique_keys,
            parse_constant=_refuse_constant,
        )
    except _READ_ERRORS as exc:
        raise _Invalid(f"malformed {METADATA_ENTRY} ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise _Invalid(f"{METADATA_ENTRY} does not say format {FORMAT_NAME!r}")
    version = meta.get("version")
    if type(version) is not int or version < 1:
        raise _Invalid(f"malformed {METADATA_ENTRY}: bad format version {version!r}")
    if version > FORMAT_VERSION:
        raise _Invalid(
            f"written in format version {version} by a newer minigrad; this one reads "
            f"versions up to {FORMAT_VERSION}: upgrade minigrad to load it"
        )
    tree = meta.get("tree")
    if not isinstance(tree, dict) or _tag(tree) is not None:
        raise _Invalid(f"malformed {METADATA_ENTRY}: 'tree' is not a dict")
    return tree


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a JSON object repeats a key")
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _tag(node: dict[str, Any]) -> str | None:
    """The tag of a tagged JSON object, or ``None`` for a plain dict."""
    if len(node) == 1:
        (k,) = node
        if k.startswith("/"):
            return k
    return None


class _ArrayReader:
    """Reads each referenced ``.npy`` entry once, checking its header against its size."""

    def __init__(
        self, zf: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], used: set[str]
    ) -> None:
        self.zf, self.entries, self.used = zf, entries, used

    def __call__(self, ref: Any) -> np.ndarray:
        if not isinstance(ref, str):
            raise _Invalid(f"malformed {METADATA_ENTRY}: array reference {ref!r} is not a string")
        name = ref + ".npy"
        if name not in self.entries:
            raise _Invalid(f"the metadata refers to a missing entry {name!r}")
        if name in self.used:
            raise _Invalid(f"the metadata refers to entry {name!r} twice")
        self.used.add(name)
        try:
            return self._read(self.entries[name])
        except _Invalid as exc:
            raise _Invalid(f"entry {name!r}: {exc}") from None
        except _READ_ERRORS as exc:
            raise _Invalid(f"entry {name!r} is damaged ({type(exc).__name__}: {exc})") from None

    def _read(self, info: zipfile.ZipInfo) -> np.ndarray:
        with self.zf.open(info) as member:
            try:
                version = np.lib.format.read_magic(member)
            except ValueError:
                raise _Invalid("not a .npy array") from None
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise _Invalid(f"unsupported .npy version {version}")
            if dtype.hasobject:
                raise _Invalid("holds a pickled object array, which is never loaded")
            if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None:
                raise _Invalid(f"dtype {dtype} is not bool or numeric")
            nbytes = math.prod(shape) * dtype.itemsize
            if member.tell() + nbytes != info.file_size:
                raise _Invalid(
                    f"header declares shape {shape} of {dtype} ({nbytes} bytes) but the entry "
                    f"holds {info.file_size - member.tell()} bytes of data"
                )
            buffer = bytearray(nbytes)  # sizes checked above: this is at most the entry's size
            view = memoryview(buffer)
            for start in range(0, nbytes, _CHUNK):
                chunk = member.read(min(_CHUNK, nbytes - start))
                if start + len(chunk) != min(start + _CHUNK, nbytes):
                    raise _Invalid("data is truncated")
                view[start : start + len(chunk)] = chunk  # zipfile checks the CRC at the last byte
        a = np.frombuffer(buffer, dtype=dtype)
        return a.reshape(shape, order="F" if fortran else "C")


def _decode(node: Any, read_array: _ArrayReader, depth: int) -> Any:
    """The Python value for one JSON node of the tree; a dict, list or tuple here is the
    ``depth``-th container on its key path (tags such as ``/array`` do not count)."""
    if isinstance(node, list):
        return [_decode(v, read_array, depth + 1) for v in _nested(node, depth)]
    if not isinstance(node, dict):
        return node
    tag = _tag(node)
    if tag is None:
        for k in node:
            if "/" in k:
                raise _Invalid(f"malformed {METADATA_ENTRY}: key {k!r} contains '/'")
        return {k: _decode(v, read_array, depth + 1) for k, v in _nested(node, depth).items()}
    (body,) = node.values()
    if tag == "/array":
        return read_array(body)
    if tag == "/scalar":
        a = read_array(body)
        if a.ndim != 0:
            raise _Invalid(f"scalar {body!r} is stored with shape {a.shape}")
        return a[()]
    if tag == "/tuple" and isinstance(body, list):
        return tuple(_decode(v, read_array, depth + 1) for v in _nested(body, depth))
    if tag == "/float" and body in _FLOAT_TAGS:
        return _FLOAT_TAGS[body]
    raise _Invalid(f"malformed {METADATA_ENTRY}: bad tagged value {node!r}"[:200])


def _nested(container: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise _Invalid(f"malformed {METADATA_ENTRY}: nested more than {MAX_DEPTH} levels deep")
    return container
