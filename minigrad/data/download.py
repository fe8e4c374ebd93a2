"""The dataset cache folder and verified, atomic downloads from a list of mirrors.

A file is streamed into a temporary file beside its target, its size and SHA-256 are checked, and
only then is it moved into place with ``os.replace``; every failure path removes the temporary
file, so the cache never holds a half-written file. A server that answers 200 with an HTML page,
or a connection cut mid-file, is caught by the size and checksum check, never trusted because of
the status code or a clean end of stream. When a mirror fails, the next one is tried; when all
fail, the error lists every URL tried with its error.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from minigrad._io import fsync_folder
from minigrad.data.errors import DatasetError

DEFAULT_TIMEOUT = 30.0  # seconds per network operation (connect, each read)
MIN_RATE = 20_000  # bytes per second: a slower transfer is given up (see download_file)
_CHUNK = 1 << 16
_USER_AGENT = "minigrad (https://pypi.org/project/minigrad/)"


def cache_dir(dataset: str) -> Path:
    """The cache folder for one dataset (not created here).

    The base folder is ``$MINIGRAD_HOME`` if set, else ``$XDG_CACHE_HOME/minigrad``, else
    ``~/.cache/minigrad``; each dataset gets its own subfolder, because MNIST and Fashion-MNIST
    share file names.

    Example:
        >>> cache_dir("mnist").name
        'mnist'
    """
    base = os.environ.get("MINIGRAD_HOME")
    if base:
        return Path(base).expanduser() / dataset
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return root / "minigrad" / dataset


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, as lowercase hex.

    Example:
        >>> import tempfile; p = Path(tempfile.mkdtemp()) / "f"; _ = p.write_bytes(b"")
        >>> sha256_file(p)[:16]
        'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def file_problem(path: str | os.PathLike[str], size: int, sha256: str) -> str | None:
    """What is wrong with a file that should have ``size`` bytes and this SHA-256, or ``None``.

    Example:
        >>> import tempfile; p = Path(tempfile.mkdtemp()) / "f"; _ = p.write_bytes(b"abc")
        >>> file_problem(p, 4, "0" * 64)
        'size is 3 bytes, expected 4'
    """
    actual = os.path.getsize(path)
    if actual != size:
        return f"size is {actual} bytes, expected {size}"
    digest = sha256_file(path)
    if digest != sha256:
        return f"sha256 mismatch: expected {sha256}, got {digest}"
    return None


def ensure_file(
    filename: str,
    folder: Path,
    size: int,
    sha256: str,
    mirrors: Sequence[str],
    download: bool,
    what: str = "dataset",
) -> Path:
    """Return ``folder / filename`` once it is verified, downloading it if allowed and needed.

    A cached file with the wrong size or hash is re-fetched when ``download`` is true and is an
    error otherwise; so is a missing file. ``what`` names the dataset in messages.

    Example:
        >>> import tempfile; folder = Path(tempfile.mkdtemp()); _ = (folder / "f").write_bytes(b"")
        >>> ensure_file("f", folder, 0, hashlib.sha256().hexdigest(), [], download=False).name
        'f'
    """
    path = folder / filename
    if path.exists():
        problem = file_problem(path, size, sha256)
        if problem is None:
            return path
        if not download:
            raise DatasetError(f"{path} is corrupt ({problem})", fetchable=True)
    elif not download:
        raise DatasetError(f"{what} file {filename} not found: looked for {path}", fetchable=True)
    return download_file(filename, folder, size, sha256, mirrors)


def download_file(
    filename: str,
    folder: Path,
    size: int,
    sha256: str,
    mirrors: Sequence[str],
    timeout: float | None = None,
) -> Path:
    """Fetch ``filename`` from the first mirror that serves it intact; return its cached path.

    Each mirror is a base URL; the file's URL is the mirror, a ``/``, and the file name. A download
    counts only if it has exactly ``size`` bytes and the expected SHA-256. A progress bar shows on
    a terminal. Raises :class:`DatasetError` listing every URL tried and its error.

    ``timeout`` (default ``DEFAULT_TIMEOUT``, 30 s) bounds each network operation: connecting,
    and each wait for more bytes. A mirror is also given up when the whole transfer takes longer
    than ``timeout + size / MIN_RATE`` seconds (slower than 20 kB/s on average), so a server that
    trickles bytes just often enough to beat the per-read timeout cannot hang the download.

    Example:
        >>> import tempfile
        >>> download_file("x", Path(tempfile.mkdtemp()), 1, "0" * 64, [])
        Traceback (most recent call last):
        minigrad.data.errors.DatasetError: cannot download x: no mirrors to try
    """
    import http.client  # imported here: importing minigrad should not load the network stack

    if not mirrors:
        raise DatasetError(f"cannot download {filename}: no mirrors to try")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / filename
    failures = []
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        try:
            _fetch(url, target, size, sha256, timeout)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            kind = "" if isinstance(exc, DatasetError) else f"{type(exc).__name__}: "
            failures.append(f"  {url}: {kind}{exc}")
        else:
            return target
    raise DatasetError(
        f"could not download {filename} into {folder}; tried {len(failures)} mirror(s):\n"
        + "\n".join(failures)
    )


def _fetch(url: str, target: Path, size: int, sha256: str, timeout: float) -> None:
    """Stream ``url`` into a temporary file beside ``target``, verify it, move it into place."""
    import urllib.request

    from tqdm import tqdm

    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    began = time.monotonic()
    allowed = timeout + size / MIN_RATE
    try:
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
            content_type = resp.headers.get("Content-Type", "")
            announced = resp.headers.get("Content-Length")
            digest = hashlib.sha256()
            received = 0
            head = b""
            with tqdm(
                total=size,
                desc=target.name,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                leave=False,
                disable=None,
            ) as bar:
                # read1 returns what has arrived, so the deadline is checked between arrivals
                while chunk := resp.read1(_CHUNK):
                    if time.monotonic() - began > allowed:
                        raise DatasetError(
                            f"gave up after {allowed:.0f} s with {received + len(chunk)} of "
                            f"{size} bytes: the server sends slower than {MIN_RATE // 1000} kB/s"
                        )
                    if len(head) < 512:
                        head += chunk[: 512 - len(head)]
                    received += len(chunk)
                    if received > size:
                        break
                    digest.update(chunk)
                    out.write(chunk)
                    bar.update(len(chunk))
            problem = _problem(received, size, announced, digest.hexdigest(), sha256)
            if problem is not None:
                if _looks_like_html(content_type, head):
                    problem += "; the server sent an HTML page instead of the file"
                raise DatasetError(problem)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_folder(target.parent)


def _problem(received: int, size: int, announced: str | None, got: str, sha256: str) -> str | None:
    if received > size:
        return f"server sent more than the expected {size} bytes"
    if received < size:
        if announced is not None and announced.isdigit() and int(announced) > received:
            return f"connection closed after {received} of {announced} bytes (expected {size})"
        return f"got {received} bytes, expected {size}"
    if got != sha256:
        return f"sha256 mismatch: expected {sha256}, got {got}"
    return None


def _looks_like_html(content_type: str, head: bytes) -> bool:
    start = head.lstrip()[:14].lower()
    return "html" in content_type.lower() or start.startswith((b"<!doctype html", b"<html"))
